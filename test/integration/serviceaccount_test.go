package integration

import (
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/controller/manager"
)

func TestDefaultServiceAccount(t *testing.T) {
	ns := newNamespace(t)
	sas := cluster.client.CoreV1().ServiceAccounts(ns)
	var first types.UID
	eventually(t, 5*time.Second, func() (bool, string) {
		sa, err := sas.Get(ctx(t), "default", metav1.GetOptions{})
		if err != nil {
			return false, fmt.Sprintf("get default service account: %v", err)
		}
		first = sa.UID
		return true, ""
	})
	if err := sas.Delete(ctx(t), "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		sa, err := sas.Get(ctx(t), "default", metav1.GetOptions{})
		if err != nil {
			return false, fmt.Sprintf("get recreated service account: %v", err)
		}
		return sa.UID != first, "still the deleted account"
	})
}

func TestSystemNamespacesHaveDefaultServiceAccount(t *testing.T) {
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		eventually(t, 5*time.Second, func() (bool, string) {
			_, err := cluster.client.CoreV1().ServiceAccounts(ns).Get(ctx(t), "default", metav1.GetOptions{})
			return err == nil, fmt.Sprintf("%s/default: %v", ns, err)
		})
	}
}

func TestControllerManagerHoldsLease(t *testing.T) {
	var lease *coordinationv1.Lease
	eventually(t, 5*time.Second, func() (bool, string) {
		var err error
		lease, err = cluster.client.CoordinationV1().Leases(manager.LeaseNamespace).Get(ctx(t), manager.LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && lease.Spec.HolderIdentity == nil) {
			return false, "no holder yet"
		}
		return err == nil, fmt.Sprintf("get lease: %v", err)
	})
	if got, want := *lease.Spec.HolderIdentity, components.manager.Identity(); got != want {
		t.Errorf("lease holder %q, want %q", got, want)
	}
	if d := lease.Spec.LeaseDurationSeconds; d == nil || *d != 15 {
		t.Errorf("leaseDurationSeconds %v, want 15", d)
	}
}
