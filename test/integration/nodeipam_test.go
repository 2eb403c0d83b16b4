package integration

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeIPAMAssignsDistinctPodCIDRs(t *testing.T) {
	ns := newNamespace(t)
	names := []string{ns + "-a", ns + "-b"}
	for _, name := range names {
		if _, err := cluster.client.CoreV1().Nodes().Create(ctx(t), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cluster.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	}
	pool := netip.MustParsePrefix("10.42.0.0/16")
	got := map[string]string{}
	eventually(t, 10*time.Second, func() (bool, string) {
		for _, name := range names {
			n, err := cluster.client.CoreV1().Nodes().Get(ctx(t), name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if n.Spec.PodCIDR == "" {
				return false, name + " has no podCIDR"
			}
			if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
				return false, fmt.Sprintf("%s podCIDRs %v, podCIDR %s", name, n.Spec.PodCIDRs, n.Spec.PodCIDR)
			}
			got[name] = n.Spec.PodCIDR
		}
		return true, ""
	})
	for name, cidr := range got {
		p, err := netip.ParsePrefix(cidr)
		if err != nil || p.Bits() != 24 || !pool.Contains(p.Addr()) {
			t.Errorf("%s: podCIDR %s is not a /24 of %s", name, cidr, pool)
		}
	}
	if got[names[0]] == got[names[1]] {
		t.Errorf("both nodes got %s", got[names[0]])
	}
}
