package nodelifecycle

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestEvictionDeadline(t *testing.T) {
	unreachable := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	dedicated := corev1.Taint{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoExecute}
	tol := func(key string, seconds *int64) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}
	}
	podStart := t0.Add(-time.Hour)
	cases := map[string]struct {
		tolerations []corev1.Toleration
		taints      []corev1.Taint
		since       []time.Time
		deadline    time.Time
		forever     bool
	}{
		"untolerated goes at once": {nil, []corev1.Taint{unreachable}, []time.Time{t0}, time.Time{}, false},
		"one of two untolerated": {[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)},
			[]corev1.Taint{unreachable, dedicated}, []time.Time{t0, t0}, time.Time{}, false},
		"tolerated forever": {[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)},
			[]corev1.Taint{unreachable}, []time.Time{t0}, time.Time{}, true},
		"seconds count from the taint": {[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](300))},
			[]corev1.Taint{unreachable}, []time.Time{t0}, t0.Add(300 * time.Second), false},
		"smallest bound wins": {[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](300)), tol("", ptr.To[int64](2)), tol("dedicated", nil)},
			[]corev1.Taint{unreachable, dedicated}, []time.Time{t0, t0.Add(-time.Minute)}, t0.Add(2 * time.Second), false},
		"negative is zero": {[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](-5))},
			[]corev1.Taint{unreachable}, []time.Time{t0}, t0, false},
	}
	for name, c := range cases {
		deadline, forever := evictionDeadline(c.tolerations, c.taints, c.since, podStart)
		if forever != c.forever || !deadline.Equal(c.deadline) {
			t.Errorf("%s: deadline %v forever %v, want %v %v", name, deadline, forever, c.deadline, c.forever)
		}
	}
	// A pod that arrived after the taint counts from its own start.
	late := t0.Add(time.Minute)
	d, _ := evictionDeadline([]corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](10))}, []corev1.Taint{unreachable}, []time.Time{t0}, late)
	if !d.Equal(late.Add(10 * time.Second)) {
		t.Errorf("late pod: deadline %v, want %v", d, late.Add(10*time.Second))
	}
}
