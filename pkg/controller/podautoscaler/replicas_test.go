package podautoscaler

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func ptr[T any](v T) *T { return &v }

// running makes n ready pods requesting 1000m, each using usage millicores.
func running(n int, usage int64) []podSample {
	var out []podSample
	for range n {
		out = append(out, podSample{name: "p", ready: true, request: 1000, usage: usage, hasUsage: true})
	}
	return out
}

func TestReplicasForUtilization(t *testing.T) {
	cases := []struct {
		name    string
		current int32
		pods    []podSample
		want    int32
		util    int32
	}{
		{"at target", 3, running(3, 500), 3, 50},
		{"inside tolerance", 3, running(3, 540), 3, 54},
		{"double the target", 3, running(3, 1000), 6, 100},
		{"half the target", 4, running(4, 250), 2, 25},
		{"rounds up", 3, running(3, 600), 4, 60},
		{"missing pod counts as target on the way down",
			4, append(running(3, 250), podSample{name: "new", ready: true, request: 1000}), 3, 25},
		{"missing pod counts as idle on the way up",
			4, append(running(3, 1000), podSample{name: "new", ready: true, request: 1000}), 6, 100},
		{"unready pod counts as idle on the way up",
			4, append(running(3, 1000), podSample{name: "starting", request: 1000, usage: 900, hasUsage: true}), 6, 100},
		{"unready pod is left out on the way down",
			4, append(running(3, 250), podSample{name: "starting", request: 1000, usage: 900, hasUsage: true}), 2, 25},
		{"ignored pods count for nothing",
			3, append(running(2, 1000), podSample{name: "dying", ignored: true, request: 1000}), 4, 100},
		{"filling in reverses the direction: no change",
			2, append(running(1, 600), podSample{name: "new", ready: true, request: 1000}), 2, 60},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := replicasFor(resourceTarget{name: "cpu", utilization: ptr(int32(50)), tolerance: DefaultTolerance, currentReplica: tc.current}, tc.pods)
			if err != nil {
				t.Fatal(err)
			}
			if got.replicas != tc.want {
				t.Errorf("replicas = %d, want %d", got.replicas, tc.want)
			}
			if got.utilization == nil || *got.utilization != tc.util {
				t.Errorf("utilization = %v, want %d", got.utilization, tc.util)
			}
		})
	}
}

func TestReplicasForAverageValue(t *testing.T) {
	got, err := replicasFor(resourceTarget{name: "cpu", averageMilli: ptr(int64(200)), tolerance: DefaultTolerance, currentReplica: 2}, running(2, 500))
	if err != nil {
		t.Fatal(err)
	}
	if got.replicas != 5 || got.averageMilli != 500 || got.utilization != nil {
		t.Errorf("got %+v, want 5 replicas at 500m average", got)
	}
}

func TestReplicasForErrors(t *testing.T) {
	target := resourceTarget{name: "cpu", utilization: ptr(int32(50)), tolerance: DefaultTolerance, currentReplica: 1}
	if _, err := replicasFor(target, []podSample{{name: "a", ready: true}}); err == nil {
		t.Error("no metrics: want an error")
	}
	noReq := []podSample{{name: "a", ready: true, hasUsage: true, usage: 10, missingRequest: "app"}}
	if _, err := replicasFor(target, noReq); err == nil || err.Error() != "missing request for cpu in container app of Pod a" {
		t.Errorf("missing request: got %v", err)
	}
}

func TestStabilize(t *testing.T) {
	now := time.Unix(1000, 0)
	hist := []recommendation{{now.Add(-200 * time.Second), 8}, {now.Add(-20 * time.Second), 6}, {now.Add(-5 * time.Second), 3}}
	if got := stabilize(hist, now, 8, 2, 0, 300*time.Second); got != 8 {
		t.Errorf("300s down window: %d, want 8 (highest recent)", got)
	}
	if got := stabilize(hist, now, 8, 2, 0, 30*time.Second); got != 6 {
		t.Errorf("30s down window: %d, want 6", got)
	}
	if got := stabilize(hist, now, 8, 2, 0, 0); got != 2 {
		t.Errorf("no window: %d, want 2", got)
	}
	if got := stabilize(hist, now, 2, 10, 30*time.Second, 0); got != 3 {
		t.Errorf("30s up window: %d, want 3 (lowest recent)", got)
	}
}

func TestRateLimit(t *testing.T) {
	r := behaviorOf(nil)
	now := time.Unix(1000, 0)
	if got := rateLimit(r.up, nil, now, 1, true); got != 5 {
		t.Errorf("default up from 1: %d, want 5 (4 pods beats 100%%)", got)
	}
	if got := rateLimit(r.up, nil, now, 10, true); got != 20 {
		t.Errorf("default up from 10: %d, want 20 (100%% beats 4 pods)", got)
	}
	events := []scaleEvent{{now.Add(-5 * time.Second), 4}}
	if got := rateLimit(r.up, events, now, 5, true); got != 5 {
		t.Errorf("up from 5 after +4 in the period: %d, want 5", got)
	}
	if got := rateLimit(r.down, nil, now, 10, false); got != 0 {
		t.Errorf("default down: %d, want 0", got)
	}
	disabled := autoscalingv2.DisabledPolicySelect
	if got := rateLimit(autoscalingv2.HPAScalingRules{SelectPolicy: &disabled}, nil, now, 3, false); got != 3 {
		t.Errorf("disabled: %d, want 3", got)
	}
	b := behaviorOf(&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(2))}})
	if b.downWindow != 2*time.Second || b.upWindow != 0 {
		t.Errorf("windows = %v/%v", b.upWindow, b.downWindow)
	}
}
