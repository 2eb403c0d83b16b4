package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	agentlocalpath "github.com/tugcluster/tug/pkg/agent/localpath"
	"github.com/tugcluster/tug/pkg/controller/localpath"
)

// storageClass creates a cluster-scoped class removed after the test.
func storageClass(t *testing.T, name, provisioner string, mode storagev1.VolumeBindingMode, params map[string]string) {
	t.Helper()
	policy := corev1.PersistentVolumeReclaimDelete
	_, err := cluster.client.StorageV1().StorageClasses().Create(ctx(t), &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, Parameters: params,
		VolumeBindingMode: &mode, ReclaimPolicy: &policy,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create class %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cluster.client.StorageV1().StorageClasses().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// cleanupVolumes deletes, after the test, the volumes it created by name
// and those bound to claims of its namespace.
func cleanupVolumes(t *testing.T, ns string, names ...string) {
	t.Cleanup(func() {
		c := context.Background()
		for _, n := range names {
			_ = cluster.client.CoreV1().PersistentVolumes().Delete(c, n, metav1.DeleteOptions{})
		}
		list, err := cluster.client.CoreV1().PersistentVolumes().List(c, metav1.ListOptions{})
		if err != nil {
			return
		}
		for _, pv := range list.Items {
			if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
				_ = cluster.client.CoreV1().PersistentVolumes().Delete(c, pv.Name, metav1.DeleteOptions{})
			}
		}
	})
}

func manualVolume(t *testing.T, name, size, class string, mutate ...func(*corev1.PersistentVolume)) {
	t.Helper()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/" + name}},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              class,
		},
	}
	for _, m := range mutate {
		m(pv)
	}
	if _, err := cluster.client.CoreV1().PersistentVolumes().Create(ctx(t), pv, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create volume %s: %v", name, err)
	}
}

func claimSpec(class, size string) corev1.PersistentVolumeClaimSpec {
	return corev1.PersistentVolumeClaimSpec{
		StorageClassName: &class,
		AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
	}
}

func createClaim(t *testing.T, ns, name, class, size string) {
	t.Helper()
	_, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Create(ctx(t), &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: claimSpec(class, size)}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create claim %s: %v", name, err)
	}
}

// waitClaimBound waits until the claim and its volume are Bound to each
// other and returns both.
func waitClaimBound(t *testing.T, ns, name string) (*corev1.PersistentVolumeClaim, *corev1.PersistentVolume) {
	t.Helper()
	var pvc *corev1.PersistentVolumeClaim
	var pv *corev1.PersistentVolume
	eventually(t, 20*time.Second, func() (bool, string) {
		var err error
		pvc, err = cluster.client.CoreV1().PersistentVolumeClaims(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
			return false, fmt.Sprintf("claim %s phase %s volume %q", name, pvc.Status.Phase, pvc.Spec.VolumeName)
		}
		pv, err = cluster.client.CoreV1().PersistentVolumes().Get(ctx(t), pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		ref := pv.Spec.ClaimRef
		return pv.Status.Phase == corev1.VolumeBound && ref != nil && ref.UID == pvc.UID && ref.Name == name,
			fmt.Sprintf("volume %s phase %s claimRef %+v", pv.Name, pv.Status.Phase, ref)
	})
	if pvc.Annotations["pv.kubernetes.io/bind-completed"] != "yes" {
		t.Fatalf("claim annotations %v", pvc.Annotations)
	}
	q, want := pvc.Status.Capacity[corev1.ResourceStorage], pv.Spec.Capacity[corev1.ResourceStorage]
	if q.Cmp(want) != 0 || len(pvc.Status.AccessModes) != len(pv.Spec.AccessModes) {
		t.Fatalf("claim status capacity %s modes %v; volume %s %v", q.String(), pvc.Status.AccessModes, want.String(), pv.Spec.AccessModes)
	}
	return pvc, pv
}

func waitVolumePhase(t *testing.T, name string, phase corev1.PersistentVolumePhase) {
	t.Helper()
	eventually(t, 20*time.Second, func() (bool, string) {
		pv, err := cluster.client.CoreV1().PersistentVolumes().Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return pv.Status.Phase == phase, fmt.Sprintf("volume %s phase %s, want %s", name, pv.Status.Phase, phase)
	})
}

// waitObjectEvent waits for an Event about the named object.
func waitObjectEvent(t *testing.T, ns, name, reason, source, contains string) {
	t.Helper()
	eventually(t, 20*time.Second, func() (bool, string) {
		evs, err := cluster.client.CoreV1().Events(ns).List(ctx(t), metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String()})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range evs.Items {
			if e.Reason == reason && e.Source.Component == source && strings.Contains(e.Message, contains) {
				return true, ""
			}
			seen = append(seen, e.Source.Component+" "+e.Reason+": "+e.Message)
		}
		return false, fmt.Sprintf("no %s event from %s about %s; events %q", reason, source, name, seen)
	})
}

func TestLocalPathClassEnsured(t *testing.T) {
	eventually(t, 20*time.Second, func() (bool, string) {
		sc, err := cluster.client.StorageV1().StorageClasses().Get(ctx(t), localpath.ClassName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		ok := sc.Provisioner == localpath.Provisioner && sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" &&
			*sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer && *sc.ReclaimPolicy == corev1.PersistentVolumeReclaimDelete
		return ok, fmt.Sprintf("class %+v", sc)
	})
}

func TestImmediateBindingBothWays(t *testing.T) {
	ns := newNamespace(t)
	class := "imm-" + ns
	storageClass(t, class, "kubernetes.io/no-provisioner", storagev1.VolumeBindingImmediate, nil)
	cleanupVolumes(t, ns, ns+"-small", ns+"-fit", ns+"-later", ns+"-reserved")

	// Volume first: the smallest volume that fits is taken.
	manualVolume(t, ns+"-small", "512Mi", class)
	manualVolume(t, ns+"-fit", "2Gi", class)
	createClaim(t, ns, "first", class, "1Gi")
	pvc, pv := waitClaimBound(t, ns, "first")
	if pv.Name != ns+"-fit" || pvc.Status.Capacity.Storage().String() != "2Gi" {
		t.Fatalf("claim bound to %s with capacity %s", pv.Name, pvc.Status.Capacity.Storage())
	}
	if pv.Annotations["pv.kubernetes.io/bound-by-controller"] != "yes" || pvc.Annotations["pv.kubernetes.io/bound-by-controller"] != "yes" {
		t.Fatalf("bound-by-controller: volume %v claim %v", pv.Annotations, pvc.Annotations)
	}

	// Claim first: it waits, then binds when a volume appears.
	createClaim(t, ns, "second", class, "3Gi")
	waitObjectEvent(t, ns, "second", "FailedBinding", "persistentvolume-controller", "no persistent volumes available")
	got, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Get(ctx(t), "second", metav1.GetOptions{})
	if err != nil || got.Status.Phase != corev1.ClaimPending {
		t.Fatalf("claim without a volume: %v %v", got.Status.Phase, err)
	}
	manualVolume(t, ns+"-later", "3Gi", class)
	if _, pv := waitClaimBound(t, ns, "second"); pv.Name != ns+"-later" {
		t.Fatalf("second claim bound to %s", pv.Name)
	}

	// A volume reserved through its claimRef goes to that claim even
	// though the small one would fit better.
	manualVolume(t, ns+"-reserved", "5Gi", class, func(pv *corev1.PersistentVolume) {
		pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: ns, Name: "third"}
	})
	createClaim(t, ns, "third", class, "100Mi")
	if _, pv := waitClaimBound(t, ns, "third"); pv.Name != ns+"-reserved" {
		t.Fatalf("third claim bound to %s", pv.Name)
	}

	// Deleting a claim releases a Retain volume, which stays Released.
	if err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx(t), "first", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitVolumePhase(t, ns+"-fit", corev1.VolumeReleased)
	time.Sleep(500 * time.Millisecond)
	pv, err = cluster.client.CoreV1().PersistentVolumes().Get(ctx(t), ns+"-fit", metav1.GetOptions{})
	if err != nil || pv.Status.Phase != corev1.VolumeReleased || pv.Spec.ClaimRef == nil {
		t.Fatalf("retained volume: %+v %v", pv.Status, err)
	}
}

// localPathClass creates a local-path class for this test whose volumes
// live under a temporary directory, and returns class and directory.
func localPathClass(t *testing.T, ns string) (string, string) {
	t.Helper()
	base := t.TempDir()
	class := "lp-" + ns
	storageClass(t, class, localpath.Provisioner, storagev1.VolumeBindingWaitForFirstConsumer, map[string]string{localpath.ParamPath: base})
	cleanupVolumes(t, ns)
	return class, base
}

func TestLocalPathProvisioningAndCleanup(t *testing.T) {
	ns := newNamespace(t)
	class, base := localPathClass(t, ns)
	node := ns + "-n1"
	schedNode(t, ns, node, "4")

	createClaim(t, ns, "data", class, "1Gi")
	waitObjectEvent(t, ns, "data", "WaitForFirstConsumer", "persistentvolume-controller", "waiting for first consumer to be created before binding")

	schedPod(t, ns, "app", "100m", func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	})
	waitBound(t, ns, "app", node)
	pvc, pv := waitClaimBound(t, ns, "data")
	if pvc.Annotations["volume.kubernetes.io/selected-node"] != node ||
		pvc.Annotations["volume.kubernetes.io/storage-provisioner"] != localpath.Provisioner {
		t.Fatalf("claim annotations %v", pvc.Annotations)
	}
	wantPath := filepath.Join(base, "pvc-"+string(pvc.UID))
	if pv.Name != "pvc-"+string(pvc.UID) || pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != wantPath ||
		pv.Spec.HostPath.Type == nil || *pv.Spec.HostPath.Type != corev1.HostPathDirectoryOrCreate {
		t.Fatalf("volume %s source %+v, want hostPath %s", pv.Name, pv.Spec.PersistentVolumeSource, wantPath)
	}
	if localpath.VolumeNode(pv) != node || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
		pv.Spec.StorageClassName != class || pv.Spec.Capacity.Storage().String() != "1Gi" {
		t.Fatalf("volume spec %+v", pv.Spec)
	}
	waitObjectEvent(t, ns, "data", "ProvisioningSucceeded", localpath.Provisioner, pv.Name)

	// The agent created the directory when the pod started.
	if err := os.MkdirAll(filepath.Join(wantPath, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wantPath, "sub", "file"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	cleaner, err := agentlocalpath.New(cluster.client, node, agentlocalpath.Options{BaseDirs: []string{base}, Logger: componentLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cleaner.Run(cctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cleaner: %v", err)
		}
	})

	// While the claim exists nothing is removed.
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(wantPath); err != nil {
		t.Fatalf("bound volume directory: %v", err)
	}
	if err := cluster.client.CoreV1().Pods(ns).Delete(ctx(t), "app", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	if err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx(t), "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		got, err := cluster.client.CoreV1().PersistentVolumes().Get(ctx(t), pv.Name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			phase := corev1.PersistentVolumePhase("")
			if got != nil {
				phase = got.Status.Phase
			}
			return false, fmt.Sprintf("volume %s still there (phase %s, err %v)", pv.Name, phase, err)
		}
		_, statErr := os.Stat(wantPath)
		return os.IsNotExist(statErr), fmt.Sprintf("directory %s: %v", wantPath, statErr)
	})
	if _, err := os.Stat(base); err != nil {
		t.Fatalf("base directory removed: %v", err)
	}
}

func TestStatefulSetClaimProvisioned(t *testing.T) {
	ns := newNamespace(t)
	class, base := localPathClass(t, ns)
	node := ns + "-n1"
	schedNode(t, ns, node, "4")
	labels := map[string]string{"app": "db"}
	tpl := podTemplate(labels, "db:1")
	tpl.Spec.NodeSelector = map[string]string{"tug.test/owner": ns}
	tpl.Spec.Tolerations = []corev1.Toleration{{Key: "tug.test/owner", Operator: corev1.TolerationOpEqual, Value: ns}}
	tpl.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	_, err := cluster.client.AppsV1().StatefulSets(ns).Create(ctx(t), &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr[int32](1), ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: claimSpec(class, "2Gi")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitBound(t, ns, "db-0", node)
	_, pv := waitClaimBound(t, ns, "data-db-0")
	if localpath.VolumeNode(pv) != node || !strings.HasPrefix(pv.Spec.HostPath.Path, base+"/pvc-") {
		t.Fatalf("volume affinity %+v path %s", pv.Spec.NodeAffinity, pv.Spec.HostPath.Path)
	}
}

func TestClaimWithoutClassGetsTheDefault(t *testing.T) {
	ns := newNamespace(t)
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		_, err := cluster.client.StorageV1().StorageClasses().Get(ctx(t), "local-path", metav1.GetOptions{})
		return err == nil, fmt.Sprintf("local-path class: %v", err)
	})
	got, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Create(ctx(t), pvc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.StorageClassName == nil || *got.Spec.StorageClassName != "local-path" {
		t.Fatalf("storageClassName = %v, want the default class local-path", got.Spec.StorageClassName)
	}
}
