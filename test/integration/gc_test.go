package integration

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// ownedConfigMap creates a ConfigMap owned by owner.
func ownedConfigMap(t *testing.T, cms typedcorev1.ConfigMapInterface, name string, owner *corev1.ConfigMap, block bool, finalizers ...string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name:       name,
		Finalizers: finalizers,
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, BlockOwnerDeletion: ptr(block),
		}},
	}}
	out, err := cms.Create(ctx(t), cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func createConfigMap(t *testing.T, cms typedcorev1.ConfigMapInterface, name string) *corev1.ConfigMap {
	t.Helper()
	out, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func waitGone(t *testing.T, cms typedcorev1.ConfigMapInterface, name string) {
	t.Helper()
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := cms.Get(ctx(t), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprintf("%s still there: %v", name, err)
	})
}

func TestGarbageCollectionBackground(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	owner := createConfigMap(t, cms, "owner")
	ownedConfigMap(t, cms, "dependent", owner, false)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "owned-secret", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}}}
	if _, err := cluster.client.CoreV1().Secrets(ns).Create(ctx(t), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	keeper := createConfigMap(t, cms, "keeper")
	shared := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared", OwnerReferences: []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID},
		{APIVersion: "v1", Kind: "ConfigMap", Name: keeper.Name, UID: keeper.UID},
	}}}
	if _, err := cms.Create(ctx(t), shared, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := cms.Delete(ctx(t), "owner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, cms, "dependent")
	eventually(t, 5*time.Second, func() (bool, string) {
		_, err := cluster.client.CoreV1().Secrets(ns).Get(ctx(t), "owned-secret", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprintf("owned secret: %v", err)
	})
	// An object with another owner stays and loses the dangling reference.
	eventually(t, 5*time.Second, func() (bool, string) {
		cm, err := cms.Get(ctx(t), "shared", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(cm.OwnerReferences) == 1 && cm.OwnerReferences[0].UID == keeper.UID,
			fmt.Sprintf("owner references %+v", cm.OwnerReferences)
	})
}

func TestGarbageCollectionDanglingOwner(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	ghost := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "never-existed", UID: types.UID("7f1c2a52-0000-4000-8000-000000000001")}}
	ownedConfigMap(t, cms, "orphaned-at-birth", ghost, false)
	waitGone(t, cms, "orphaned-at-birth")
}

func TestGarbageCollectionForeground(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	owner := createConfigMap(t, cms, "owner")
	// The dependent's own finalizer keeps it (and so its owner) around
	// until the test lets go.
	ownedConfigMap(t, cms, "blocking", owner, true, "example.test/hold")
	ownedConfigMap(t, cms, "plain", owner, false)

	if err := cms.Delete(ctx(t), "owner", metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationForeground)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		cm, err := cms.Get(ctx(t), "blocking", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return cm.DeletionTimestamp != nil, "blocking dependent not being deleted"
	})
	waitGone(t, cms, "plain")
	got, err := cms.Get(ctx(t), "owner", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("owner while a blocking dependent remains: %v, want it kept", err)
	}
	if got.DeletionTimestamp == nil || len(got.Finalizers) != 1 || got.Finalizers[0] != metav1.FinalizerDeleteDependents {
		t.Fatalf("owner: deletionTimestamp %v finalizers %v, want deleting with %q", got.DeletionTimestamp, got.Finalizers, metav1.FinalizerDeleteDependents)
	}

	blocking, err := cms.Get(ctx(t), "blocking", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blocking.Finalizers = nil
	if _, err := cms.Update(ctx(t), blocking, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, cms, "blocking")
	waitGone(t, cms, "owner")
}

func TestGarbageCollectionOrphan(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	owner := createConfigMap(t, cms, "owner")
	ownedConfigMap(t, cms, "dependent", owner, true)

	if err := cms.Delete(ctx(t), "owner", metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationOrphan)}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, cms, "owner")
	cm, err := cms.Get(ctx(t), "dependent", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("orphaned dependent: %v, want it kept", err)
	}
	if len(cm.OwnerReferences) != 0 {
		t.Errorf("orphaned dependent still has owner references %+v", cm.OwnerReferences)
	}
}
