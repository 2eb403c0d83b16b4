package history

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var setKind = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}

func template(image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: image}}},
	}
}

func TestNewRevision(t *testing.T) {
	parent := &metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: types.UID("u1")}
	a, err := New(parent, setKind, template("db:1"), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := New(parent, setKind, template("db:1"), 7, nil)
	if a.Name != again.Name || Hash(a) != Hash(again) || a.Name != "db-"+Hash(a) {
		t.Fatalf("same template, different names %s %s", a.Name, again.Name)
	}
	b, _ := New(parent, setKind, template("db:2"), 2, nil)
	if a.Name == b.Name {
		t.Fatal("different templates, same name")
	}
	collided, _ := New(parent, setKind, template("db:1"), 1, new(int32(1)))
	if collided.Name == a.Name {
		t.Fatal("collisionCount does not change the name")
	}
	if a.Labels["app"] != "db" || !metav1.IsControlledBy(a, parent) {
		t.Fatalf("labels %v owners %v", a.Labels, a.OwnerReferences)
	}
	got, err := Template(a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(template("db:1"), got); diff != "" {
		t.Fatalf("decoded template (-want +got):\n%s", diff)
	}
	if !Records(a, template("db:1")) || Records(a, template("db:2")) {
		t.Fatal("Records disagrees with the template")
	}
}

func TestSortNextStale(t *testing.T) {
	rev := func(name string, n int64) *appsv1.ControllerRevision {
		return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name}, Revision: n}
	}
	revs := []*appsv1.ControllerRevision{rev("c", 3), rev("a", 1), rev("d", 4), rev("b", 2)}
	Sort(revs)
	var order []string
	for _, r := range revs {
		order = append(order, r.Name)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d"}, order); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
	if Next(revs) != 5 || Next(nil) != 1 {
		t.Fatalf("next %d", Next(revs))
	}
	stale := Stale(revs, map[string]bool{"a": true, "d": true}, 1)
	if len(stale) != 1 || stale[0].Name != "b" {
		t.Fatalf("stale %v", stale)
	}
	if Stale(revs, nil, 10) != nil {
		t.Fatal("stale within the limit")
	}
}
