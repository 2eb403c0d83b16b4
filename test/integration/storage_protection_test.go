package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	agentlocalpath "github.com/tugcluster/tug/pkg/agent/localpath"
	"github.com/tugcluster/tug/pkg/controller/pvcprotection"
	"github.com/tugcluster/tug/pkg/controller/pvprotection"
)

// usesClaim gives a pod a volume of the named claim.
func usesClaim(claim string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
}

func deletePodNow(t *testing.T, ns, name string) {
	t.Helper()
	err := cluster.client.CoreV1().Pods(ns).Delete(ctx(t), name, metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)})
	if err != nil {
		t.Fatalf("delete pod %s: %v", name, err)
	}
}

// expectTerminatingClaim checks, a moment after its deletion, that the
// claim is still there, deleted and held by its protection finalizer.
func expectTerminatingClaim(t *testing.T, ns, name string) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	pvc, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Get(ctx(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("claim %s in use: %v", name, err)
	}
	if pvc.DeletionTimestamp == nil || !slices.Contains(pvc.Finalizers, pvcprotection.Finalizer) {
		t.Fatalf("claim %s in use: deletionTimestamp %v finalizers %v", name, pvc.DeletionTimestamp, pvc.Finalizers)
	}
}

func waitClaimGone(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 20*time.Second, func() (bool, string) {
		pvc, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err == nil {
			return false, fmt.Sprintf("claim %s still there with finalizers %v", name, pvc.Finalizers)
		}
		return apierrors.IsNotFound(err), err.Error()
	})
}

func waitVolumeGone(t *testing.T, name string) {
	t.Helper()
	eventually(t, 20*time.Second, func() (bool, string) {
		pv, err := cluster.client.CoreV1().PersistentVolumes().Get(ctx(t), name, metav1.GetOptions{})
		if err == nil {
			return false, fmt.Sprintf("volume %s still there: phase %s finalizers %v", name, pv.Status.Phase, pv.Finalizers)
		}
		return apierrors.IsNotFound(err), err.Error()
	})
}

func TestClaimProtectedWhileInUse(t *testing.T) {
	ns := newNamespace(t)
	class := "imm-" + ns
	storageClass(t, class, "kubernetes.io/no-provisioner", storagev1.VolumeBindingImmediate, nil)
	cleanupVolumes(t, ns, ns+"-pv")
	manualVolume(t, ns+"-pv", "1Gi", class)
	createClaim(t, ns, "data", class, "1Gi")
	pvc, _ := waitClaimBound(t, ns, "data")
	if !slices.Contains(pvc.Finalizers, pvcprotection.Finalizer) {
		t.Fatalf("new claim finalizers %v", pvc.Finalizers)
	}
	node := ns + "-n1"
	schedNode(t, ns, node, "4")
	schedPod(t, ns, "app", "100m", usesClaim("data"))
	waitBound(t, ns, "app", node)

	if err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx(t), "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectTerminatingClaim(t, ns, "data")

	// A pod created now is not scheduled with the claim, but until it
	// is gone it holds the claim too.
	schedPod(t, ns, "late", "100m", usesClaim("data"))
	waitEvent(t, ns, "late", "FailedScheduling", `persistentvolumeclaim "data" is being deleted`)
	deletePodNow(t, ns, "app")
	expectTerminatingClaim(t, ns, "data")
	deletePodNow(t, ns, "late")
	waitClaimGone(t, ns, "data")
	waitVolumePhase(t, ns+"-pv", corev1.VolumeReleased)
}

func TestClaimOfFinishedPodIsFree(t *testing.T) {
	ns := newNamespace(t)
	createClaim(t, ns, "data", "none-"+ns, "1Gi")
	p := pod("done", "", nil)
	p.Spec.NodeSelector = map[string]string{"tug.test/node": "none"}
	usesClaim("data")(p)
	if _, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx(t), "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectTerminatingClaim(t, ns, "data")
	p.Namespace = ns
	if err := failPodWith(ctx(t), p, 1); err != nil {
		t.Fatal(err)
	}
	waitClaimGone(t, ns, "data")
}

func TestVolumeProtectedWhileBound(t *testing.T) {
	ns := newNamespace(t)
	class := "imm-" + ns
	storageClass(t, class, "kubernetes.io/no-provisioner", storagev1.VolumeBindingImmediate, nil)
	free, bound := ns+"-free", ns+"-bound"
	cleanupVolumes(t, ns, free, bound)
	pvs := cluster.client.CoreV1().PersistentVolumes()

	// A volume no claim asks for goes at once.
	manualVolume(t, free, "1Gi", "unclaimed-"+ns)
	waitVolumePhase(t, free, corev1.VolumeAvailable)
	pv, err := pvs.Get(ctx(t), free, metav1.GetOptions{})
	if err != nil || !slices.Contains(pv.Finalizers, pvprotection.Finalizer) {
		t.Fatalf("new volume: %v, finalizers %v", err, pv.Finalizers)
	}
	if err := pvs.Delete(ctx(t), free, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitVolumeGone(t, free)

	// A bound volume stays until its claim is gone.
	manualVolume(t, bound, "1Gi", class)
	createClaim(t, ns, "data", class, "1Gi")
	waitClaimBound(t, ns, "data")
	if err := pvs.Delete(ctx(t), bound, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	pv, err = pvs.Get(ctx(t), bound, metav1.GetOptions{})
	if err != nil || pv.DeletionTimestamp == nil || !slices.Contains(pv.Finalizers, pvprotection.Finalizer) {
		t.Fatalf("bound volume after delete: %v", err)
	}
	if err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx(t), "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitClaimGone(t, ns, "data")
	waitVolumeGone(t, bound)
}

// runLocalPathCleaner runs the agent's local-path cleaner of node over
// base until the test ends.
func runLocalPathCleaner(t *testing.T, node, base string) {
	t.Helper()
	cleaner, err := agentlocalpath.New(cluster.client, node, agentlocalpath.Options{BaseDirs: []string{base}, Logger: componentLogger()})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cleaner.Run(c) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cleaner: %v", err)
		}
	})
}

// A local-path claim deleted while in use goes with its pod, and then its
// volume and directory go.
func TestLocalPathClaimDeletedWhileInUse(t *testing.T) {
	ns := newNamespace(t)
	class, base := localPathClass(t, ns)
	node := ns + "-n1"
	schedNode(t, ns, node, "4")
	createClaim(t, ns, "data", class, "1Gi")
	schedPod(t, ns, "app", "100m", usesClaim("data"))
	waitBound(t, ns, "app", node)
	_, pv := waitClaimBound(t, ns, "data")
	dir := pv.Spec.HostPath.Path
	// The agent creates the directory when the pod starts.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	runLocalPathCleaner(t, node, base)

	if err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx(t), "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectTerminatingClaim(t, ns, "data")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("directory of a claim in use: %v", err)
	}
	deletePodNow(t, ns, "app")
	waitClaimGone(t, ns, "data")
	waitVolumeGone(t, pv.Name)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s after its volume went: %v", dir, err)
	}
}

// Deleting a namespace deletes its pods and claims; the claims' finalizers
// come off once the pods are gone, and the namespace goes.
func TestNamespaceDeletionWithClaimInUse(t *testing.T) {
	ns := newNamespace(t)
	c := cluster.client
	createClaim(t, ns, "data", "none-"+ns, "1Gi")
	// Bound to a node that does not exist: the namespace controller
	// force-deletes it after its grace period.
	bound := pod("bound", "no-such-node", nil)
	bound.Spec.TerminationGracePeriodSeconds = ptr(int64(1))
	usesClaim("data")(bound)
	if _, err := c.CoreV1().Pods(ns).Create(ctx(t), bound, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().Namespaces().Delete(ctx(t), ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		_, err := c.CoreV1().Namespaces().Get(ctx(t), ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprintf("namespace still there: %v", err)
	})
}
