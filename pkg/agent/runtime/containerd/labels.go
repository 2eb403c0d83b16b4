package containerd

import (
	"path"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Container labels: identity set at creation, state recorded as the
// container starts and exits (they survive the task and an agent restart).
const (
	labelSandbox   = "io.tug.sandbox"
	labelName      = "io.tug.container"
	labelAttempt   = "io.tug.attempt"
	labelInit      = "io.tug.init"
	labelImage     = "io.tug.image"
	labelImageID   = "io.tug.image-id"
	labelCreated   = "io.tug.created"
	labelLogPath   = "io.tug.log-path"
	labelTermLog   = "io.tug.termination-log"
	labelTTY       = "io.tug.tty"
	labelStdin     = "io.tug.stdin"
	labelStdinOnce = "io.tug.stdin-once"
	labelStarted   = "io.tug.started"
	labelFinished  = "io.tug.finished"
	labelExitCode  = "io.tug.exit-code"
	labelOOM       = "io.tug.oom"
	runcRuntime    = "io.containerd.runc.v2"
	maxTermMessage = 4096
)

// podLogDir is where a pod's container logs live, kubelet-style:
// <DataDir>/logs/<namespace>_<name>_<uid>.
func (r *Runtime) podLogDir(pod *corev1.Pod) string {
	return filepath.Join(r.cfg.DataDir, "logs", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID))
}

// logPath is one container attempt's log file: <pod dir>/<name>/<attempt>.log.
func (r *Runtime) logPath(pod *corev1.Pod, name string, attempt int) string {
	return filepath.Join(r.podLogDir(pod), name, strconv.Itoa(attempt)+".log")
}

func (r *Runtime) fifoDir(id string) string { return filepath.Join(r.cfg.DataDir, "fifo", id) }

// podCgroup is the cgroup every container of a sandbox lives under.
func (r *Runtime) podCgroup(sandboxID string) string {
	return path.Join(r.cfg.CgroupParent, "pod-"+sandboxID)
}
