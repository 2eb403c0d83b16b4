package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/pkg/controller/manager"
)

// leaseHolder polls until the controller manager's Lease has a holder.
func leaseHolder(t *testing.T, cs kubernetes.Interface, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lease, err := cs.CoordinationV1().Leases(manager.LeaseNamespace).Get(context.Background(), manager.LeaseName, metav1.GetOptions{})
		state := fmt.Sprint(err)
		if err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" {
			return *lease.Spec.HolderIdentity
		}
		if err == nil {
			state = "no holder"
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller manager lease after %s: %s", timeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A server runs the controllers, and a restarted single server leads again
// at once instead of waiting for its previous Lease to expire.
func TestServerRunsControllersAndLeadsAgainAfterRestart(t *testing.T) {
	dir := t.TempDir()
	c, stop := start(t, testOptions(t, dir))
	cs := clientset(t, c)
	first := leaseHolder(t, cs, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := cs.CoreV1().ServiceAccounts("kube-system").Get(context.Background(), "default", metav1.GetOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-system/default service account: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()

	c, _ = start(t, testOptions(t, dir))
	cs = clientset(t, c)
	deadline = time.Now().Add(5 * time.Second)
	for holder := leaseHolder(t, cs, 5*time.Second); holder == first; holder = leaseHolder(t, cs, 5*time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("lease still held by the stopped server %q", first)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
