package agent

import (
	"bytes"
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Limits of a termination message taken from the logs, as in
// Kubernetes: the last 80 lines, at most 2048 bytes.
const (
	fallbackLogLines = 80
	fallbackLogBytes = 2048
)

// fillTerminationMessages gives containers that failed without writing
// a termination message (the runtime reads terminationMessagePath into
// ContainerStatus.Message) the tail of their logs, when their
// terminationMessagePolicy is FallbackToLogsOnError and the runtime can
// read logs. Each instance is looked at once.
func (a *Agent) fillTerminationMessages(ctx context.Context, st *podState, pod *corev1.Pod) {
	lr, ok := a.rt.(runtime.LogReader)
	if !ok {
		return
	}
	fill := func(cs []containerState, specs []corev1.Container) {
		for i := range cs {
			c := &cs[i]
			if !c.exited() || c.messageChecked || i >= len(specs) {
				continue
			}
			c.messageChecked = true
			if specs[i].TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError ||
				c.last.ExitCode == 0 || c.last.Message != "" {
				continue
			}
			var buf bytes.Buffer
			if err := lr.ContainerLogs(ctx, c.id, runtime.LogOptions{TailLines: fallbackLogLines}, &buf); err != nil {
				a.opts.Logger.Warn("read logs for termination message", "node", a.opts.NodeName, "container", c.id, "err", err)
				continue
			}
			b := buf.Bytes()
			if len(b) > fallbackLogBytes {
				b = b[len(b)-fallbackLogBytes:]
			}
			c.last.Message = strings.TrimRight(string(b), "\n")
		}
	}
	fill(st.init, pod.Spec.InitContainers)
	fill(st.app, pod.Spec.Containers)
}
