package nodelifecycle

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestZoneState(t *testing.T) {
	cases := []struct {
		ready, notReady int
		want            zoneState
	}{
		{3, 0, zoneNormal},
		{0, 1, zoneFullDisruption},
		{1, 2, zoneNormal}, // two not-ready nodes are never a disruption
		{2, 3, zonePartialDisruption},
		{10, 3, zoneNormal},
	}
	for _, c := range cases {
		if got := computeZoneState(c.ready, c.notReady, DefaultUnhealthyZoneThreshold); got != c.want {
			t.Errorf("ready %d notReady %d: %v, want %v", c.ready, c.notReady, got, c.want)
		}
	}
}

func TestZonesRateLimitTainting(t *testing.T) {
	cfg := Config{}.withDefaults()
	mk := func(name, zone string, ready corev1.ConditionStatus) *corev1.Node {
		n := nodeWith(ready)
		n.ObjectMeta = metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelTopologyZone: zone}}
		return n
	}
	z := newZones(cfg)
	z.update([]*corev1.Node{mk("a1", "a", corev1.ConditionTrue), mk("a2", "a", corev1.ConditionUnknown),
		mk("b1", "b", corev1.ConditionUnknown)})
	if z.disrupted() {
		t.Fatal("one healthy zone: cluster counted as disrupted")
	}
	if !z.tryTaint("/a") {
		t.Fatal("healthy zone: first taint refused")
	}
	if z.tryTaint("/a") {
		t.Fatal("healthy zone: second taint in the same instant allowed (rate 0.1/s)")
	}
	if !z.tryTaint("/b") {
		t.Fatal("fully disrupted zone among healthy ones: taint refused")
	}
	recovered := z.update([]*corev1.Node{mk("a1", "a", corev1.ConditionUnknown), mk("b1", "b", corev1.ConditionFalse)})
	if recovered || !z.disrupted() || z.tryTaint("/a") {
		t.Fatal("every zone down: tainting must stop")
	}
	if !z.update([]*corev1.Node{mk("a1", "a", corev1.ConditionTrue)}) {
		t.Fatal("leaving the outage not reported")
	}
}
