package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/utils/ptr"
)

func TestLease(t *testing.T) {
	r := groupResource(t, "leases")
	lease := func(mutate func(*coordinationv1.Lease)) *coordinationv1.Lease {
		l := &coordinationv1.Lease{ObjectMeta: objectMeta("node-1"), Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To("node-1"), LeaseDurationSeconds: ptr.To[int32](40),
		}}
		mutate(l)
		return l
	}
	cases := []struct {
		name   string
		mutate func(*coordinationv1.Lease)
		want   []string
	}{
		{"valid", func(*coordinationv1.Lease) {}, nil},
		{"zero duration", func(l *coordinationv1.Lease) { l.Spec.LeaseDurationSeconds = ptr.To[int32](0) },
			[]string{"spec.leaseDurationSeconds: Invalid value: must be greater than 0"}},
		{"negative transitions", func(l *coordinationv1.Lease) { l.Spec.LeaseTransitions = ptr.To[int32](-1) },
			[]string{"spec.leaseTransitions: Invalid value: must be greater than or equal to 0"}},
		{"preferred holder without strategy", func(l *coordinationv1.Lease) { l.Spec.PreferredHolder = ptr.To("node-2") },
			[]string{"spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, lease(c.mutate)), c.want)
		old := lease(func(*coordinationv1.Lease) {})
		checkErrors(t, c.name+" (update)", updateErrors(r, lease(c.mutate), old), c.want)
	}
	if diff := cmp.Diff([]string{"NAME", "HOLDER", "AGE"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	checkRow(t, r, lease(func(*coordinationv1.Lease) {}), []any{"node-1", "node-1", "AGE"})
	checkRow(t, r, lease(func(l *coordinationv1.Lease) { l.Spec.HolderIdentity = nil }), []any{"node-1", "", "AGE"})
}
