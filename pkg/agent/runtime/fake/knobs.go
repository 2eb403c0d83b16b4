package fake

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Annotation keys of the failure knobs (see the package documentation).
const (
	AnnotationExitCode  = "sim.tug.dev/exit-code"
	AnnotationExitAfter = "sim.tug.dev/exit-after"
)

// exitPlan says how a started container ends on its own.
type exitPlan struct {
	exits  bool
	code   int32
	reason string
	after  time.Duration
}

// planExit reads the knobs for one container.
func planExit(pod *corev1.Pod, c *corev1.Container, init bool) (exitPlan, error) {
	var plan exitPlan
	img := c.Image
	switch {
	case strings.Contains(img, "oomkill"):
		plan = exitPlan{exits: true, code: 137, reason: runtime.ReasonOOMKilled}
	case strings.Contains(img, "crash"):
		plan = exitPlan{exits: true, code: 1, reason: runtime.ReasonError}
	case strings.Contains(img, "complete"):
		plan = exitPlan{exits: true, code: 0, reason: runtime.ReasonCompleted}
	}
	ann := pod.Annotations
	code, ok := ann[AnnotationExitCode+"."+c.Name]
	if !ok && !init {
		code, ok = ann[AnnotationExitCode]
	}
	if ok {
		p, err := parseExitCode(code)
		if err != nil {
			return plan, err
		}
		plan = p
	}
	after, ok := ann[AnnotationExitAfter+"."+c.Name]
	if !ok && !init {
		after, ok = ann[AnnotationExitAfter]
	}
	if ok && plan.exits {
		d, err := time.ParseDuration(after)
		if err != nil || d < 0 {
			return plan, fmt.Errorf("annotation %s: %q is not a duration", AnnotationExitAfter, after)
		}
		plan.after = d
	}
	return plan, nil
}

func parseExitCode(s string) (exitPlan, error) {
	if s == "oom" {
		return exitPlan{exits: true, code: 137, reason: runtime.ReasonOOMKilled}, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 || n > 255 {
		return exitPlan{}, fmt.Errorf("annotation %s: %q is not an exit code (0-255 or \"oom\")", AnnotationExitCode, s)
	}
	reason := runtime.ReasonError
	if n == 0 {
		reason = runtime.ReasonCompleted
	}
	return exitPlan{exits: true, code: int32(n), reason: reason}, nil
}
