package disruption

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func ownedBy(kind, name string, uid types.UID) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}}
}

// scaleOf finds a pod's scale as Kubernetes' disruption controller does.
func TestScaleOf(t *testing.T) {
	index := func(objs ...any) cache.Indexer {
		i := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
		for _, o := range objs {
			if err := i.Add(o); err != nil {
				t.Fatal(err)
			}
		}
		return i
	}
	meta := func(name string, uid types.UID, owners []metav1.OwnerReference) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "ns", Name: name, UID: uid, OwnerReferences: owners}
	}
	dc := &Controller{
		deployments: appslisters.NewDeploymentLister(index(
			&appsv1.Deployment{ObjectMeta: meta("web", "d1", nil), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](5)}})),
		replicaSets: appslisters.NewReplicaSetLister(index(
			&appsv1.ReplicaSet{ObjectMeta: meta("web-1", "rs1", ownedBy("Deployment", "web", "d1"))},
			&appsv1.ReplicaSet{ObjectMeta: meta("bare", "rs2", nil), Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2)}},
			&appsv1.ReplicaSet{ObjectMeta: meta("orphaned", "rs3", ownedBy("Deployment", "gone", "d9"))})),
		statefulSets: appslisters.NewStatefulSetLister(index(
			&appsv1.StatefulSet{ObjectMeta: meta("db", "ss1", nil), Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3)}})),
	}
	for _, tc := range []struct {
		name   string
		owners []metav1.OwnerReference
		want   scale
		ok     bool
		err    bool
	}{
		{"unmanaged", nil, scale{}, false, false},
		{"deployment through its replicaset", ownedBy("ReplicaSet", "web-1", "rs1"), scale{"d1", 5}, true, false},
		{"bare replicaset", ownedBy("ReplicaSet", "bare", "rs2"), scale{"rs2", 2}, true, false},
		{"statefulset", ownedBy("StatefulSet", "db", "ss1"), scale{"ss1", 3}, true, false},
		{"replicaset of a gone deployment", ownedBy("ReplicaSet", "orphaned", "rs3"), scale{}, false, true},
		{"replicaset replaced under the same name", ownedBy("ReplicaSet", "bare", "other"), scale{}, false, true},
		{"another kind", ownedBy("DaemonSet", "agent", "ds1"), scale{}, false, true},
	} {
		pod := &corev1.Pod{ObjectMeta: meta("p", "pod", tc.owners)}
		got, ok, err := dc.scaleOf(pod)
		if got != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("%s: scaleOf = %+v, %v, %v; want %+v, %v, error %v", tc.name, got, ok, err, tc.want, tc.ok, tc.err)
		}
	}
}
