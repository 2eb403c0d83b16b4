package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// stsPods returns the active pods of the set by name.
func stsPods(c context.Context, ns, app string) (map[string]corev1.Pod, error) {
	pods, err := activePods(c, ns, "app="+app)
	if err != nil {
		return nil, err
	}
	out := map[string]corev1.Pod{}
	for _, p := range pods {
		out[p.Name] = p
	}
	return out, nil
}

func podNames(m map[string]corev1.Pod) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	return out
}

// finishTerminating completes the deletion of terminating pods of the set
// without marking any pod ready.
func finishTerminating(c context.Context, ns, app string) error {
	list, err := cluster.client.CoreV1().Pods(ns).List(c, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return err
	}
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			err := cluster.client.CoreV1().Pods(ns).Delete(c, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)})
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// updateSet changes the StatefulSet web, retrying when the controller's
// status writes get in between.
func updateSet(t *testing.T, ns string, mutate func(*appsv1.StatefulSet)) {
	t.Helper()
	c := ctx(t)
	for {
		set, err := cluster.client.AppsV1().StatefulSets(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mutate(set)
		_, err = cluster.client.AppsV1().StatefulSets(ns).Update(c, set, metav1.UpdateOptions{})
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
	}
}

func TestStatefulSetLifecycle(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "db"}
	tpl := podTemplate(labels, "db:1")
	tpl.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	_, err := cluster.client.AppsV1().StatefulSets(ns).Create(c, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr[int32](3), ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Pods come one at a time, each after the previous is ready.
	for i := range 3 {
		name := fmt.Sprintf("db-%d", i)
		waitFor(t, 10*time.Second, name+" created", func() (bool, error) {
			pods, err := stsPods(c, ns, "db")
			if err != nil {
				return false, err
			}
			if len(pods) > i+1 {
				return false, fmt.Errorf("pods %v before %s was ready", podNames(pods), name)
			}
			_, ok := pods[name]
			return ok, fmt.Errorf("pods %v", podNames(pods))
		})
		time.Sleep(300 * time.Millisecond)
		pods, err := stsPods(c, ns, "db")
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != i+1 {
			t.Fatalf("pods %v while %s is not ready", podNames(pods), name)
		}
		p := pods[name]
		if p.Spec.Hostname != name || p.Spec.Subdomain != "db" || p.Labels[appsv1.StatefulSetPodNameLabel] != name ||
			p.Labels[appsv1.PodIndexLabel] != fmt.Sprint(i) {
			t.Fatalf("pod identity: hostname %q subdomain %q labels %v", p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
		claim := "data-" + name
		if len(p.Spec.Volumes) == 0 || p.Spec.Volumes[0].PersistentVolumeClaim == nil ||
			p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != claim {
			t.Fatalf("pod volumes %+v, want claim %s", p.Spec.Volumes, claim)
		}
		pvc, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).Get(c, claim, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("claim %s: %v", claim, err)
		}
		if pvc.Labels["app"] != "db" || !pvc.CreationTimestamp.Time.Add(-time.Second).Before(p.CreationTimestamp.Time) {
			t.Fatalf("claim labels %v, created %v, pod created %v", pvc.Labels, pvc.CreationTimestamp, p.CreationTimestamp)
		}
		if err := markReady(c, &p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "status 3 ready", func() (bool, error) {
		set, err := cluster.client.AppsV1().StatefulSets(ns).Get(c, "db", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := set.Status
		return s.Replicas == 3 && s.ReadyReplicas == 3 && s.AvailableReplicas == 3 && s.CurrentReplicas == 3 &&
			s.UpdatedReplicas == 3 && s.CurrentRevision != "" && s.CurrentRevision == s.UpdateRevision &&
			s.ObservedGeneration == set.Generation, fmt.Errorf("status %+v", s)
	})

	// A deleted pod comes back under the same name.
	old, err := cluster.client.CoreV1().Pods(ns).Get(c, "db-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.client.CoreV1().Pods(ns).Delete(c, "db-1", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "db-1 recreated", func() (bool, error) {
		if _, err := fakeKubelet(c, ns, "app=db"); err != nil {
			return false, err
		}
		p, err := cluster.client.CoreV1().Pods(ns).Get(c, "db-1", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.UID != old.UID && podReady(p), fmt.Errorf("db-1 uid %s (old %s)", p.UID, old.UID)
	})

}

func TestStatefulSetRollingUpdateAndScaleDown(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "web"}
	_, err := cluster.client.AppsV1().StatefulSets(ns).Create(c, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr[int32](3), ServiceName: "web",
			Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate(labels, "db:1")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "3 ready pods", func() (bool, error) {
		n, err := fakeKubelet(c, ns, "app=web")
		if err != nil {
			return false, err
		}
		set, err := cluster.client.AppsV1().StatefulSets(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return n == 3 && set.Status.ReadyReplicas == 3, fmt.Errorf("%d pods, status %+v", n, set.Status)
	})

	// Rolling update with partition 1: db-2 then db-1 move to db:2, db-0 stays.
	updateSet(t, ns, func(set *appsv1.StatefulSet) {
		set.Spec.Template.Spec.Containers[0].Image = "db:2"
		set.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr[int32](1)}
	})
	sawOneBeforeTwo := false
	waitFor(t, 15*time.Second, "web-1 and web-2 updated", func() (bool, error) {
		if _, err := fakeKubelet(c, ns, "app=web"); err != nil {
			return false, err
		}
		pods, err := stsPods(c, ns, "web")
		if err != nil {
			return false, err
		}
		image := func(n string) string {
			if p, ok := pods[n]; ok {
				return p.Spec.Containers[0].Image
			}
			return ""
		}
		if image("web-1") == "db:2" && image("web-2") != "db:2" {
			sawOneBeforeTwo = true
		}
		if image("web-0") != "db:1" {
			return false, fmt.Errorf("web-0 runs %q below the partition", image("web-0"))
		}
		set, err := cluster.client.AppsV1().StatefulSets(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := set.Status
		return image("web-1") == "db:2" && image("web-2") == "db:2" && s.UpdatedReplicas == 2 && s.CurrentReplicas == 1 &&
				s.ReadyReplicas == 3 && s.CurrentRevision != s.UpdateRevision && s.ObservedGeneration == set.Generation,
			fmt.Errorf("images %s %s %s, status %+v", image("web-0"), image("web-1"), image("web-2"), s)
	})
	if sawOneBeforeTwo {
		t.Error("web-1 updated before web-2")
	}

	// Scale down removes db-2 before db-1, one at a time.
	updateSet(t, ns, func(set *appsv1.StatefulSet) { set.Spec.Replicas = ptr[int32](1) })
	waitFor(t, 10*time.Second, "scaled to 1", func() (bool, error) {
		pods, err := stsPods(c, ns, "web")
		if err != nil {
			return false, err
		}
		_, one := pods["web-1"]
		_, two := pods["web-2"]
		if two && !one {
			return false, fmt.Errorf("web-1 removed before web-2: %v", podNames(pods))
		}
		if err := finishTerminating(c, ns, "web"); err != nil {
			return false, err
		}
		_, zero := pods["web-0"]
		return len(pods) == 1 && zero, fmt.Errorf("pods %v", podNames(pods))
	})
}

// TestStatefulSetMaxUnavailable: with rollingUpdate.maxUnavailable 2, a
// rolling update takes the two highest pods down together, and no more
// while they are not ready again.
func TestStatefulSetMaxUnavailable(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "batch"}
	two := intstr.FromInt32(2)
	_, err := cluster.client.AppsV1().StatefulSets(ns).Create(c, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "batch"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr[int32](4), ServiceName: "batch",
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{MaxUnavailable: &two}},
			Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: podTemplate(labels, "db:1")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "4 ready pods", func() (bool, error) {
		n, err := fakeKubelet(c, ns, "app=batch")
		if err != nil {
			return false, err
		}
		set, err := cluster.client.AppsV1().StatefulSets(ns).Get(c, "batch", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return n == 4 && set.Status.ReadyReplicas == 4, fmt.Errorf("%d pods, status %+v", n, set.Status)
	})
	image := func(pods map[string]corev1.Pod, n string) string {
		if p, ok := pods[n]; ok {
			return p.Spec.Containers[0].Image
		}
		return ""
	}
	set, err := cluster.client.AppsV1().StatefulSets(ns).Get(c, "batch", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set.Spec.Template.Spec.Containers[0].Image = "db:2"
	if _, err := cluster.client.AppsV1().StatefulSets(ns).Update(c, set, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Without a kubelet finishing anything, batch-3 and batch-2 are taken
	// down (and come back as db:2, not ready), batch-1 and batch-0 wait.
	waitFor(t, 10*time.Second, "batch-3 and batch-2 replaced", func() (bool, error) {
		if err := finishTerminating(c, ns, "batch"); err != nil {
			return false, err
		}
		pods, err := stsPods(c, ns, "batch")
		if err != nil {
			return false, err
		}
		return image(pods, "batch-3") == "db:2" && image(pods, "batch-2") == "db:2",
			fmt.Errorf("images %s %s %s %s", image(pods, "batch-0"), image(pods, "batch-1"), image(pods, "batch-2"), image(pods, "batch-3"))
	})
	time.Sleep(500 * time.Millisecond) // room for a wrong third deletion
	pods, err := stsPods(c, ns, "batch")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"batch-0", "batch-1"} {
		if p, ok := pods[n]; !ok || p.DeletionTimestamp != nil || image(pods, n) != "db:1" {
			t.Fatalf("%s was touched while two pods were unavailable: %+v", n, p.ObjectMeta)
		}
	}
	// Once they are ready, the other two follow.
	waitFor(t, 15*time.Second, "every pod updated and ready", func() (bool, error) {
		if _, err := fakeKubelet(c, ns, "app=batch"); err != nil {
			return false, err
		}
		pods, err := stsPods(c, ns, "batch")
		if err != nil {
			return false, err
		}
		for i := range 4 {
			n := fmt.Sprintf("batch-%d", i)
			p, ok := pods[n]
			if !ok || image(pods, n) != "db:2" || !podReady(&p) {
				return false, fmt.Errorf("%s not updated and ready", n)
			}
		}
		return true, nil
	})
}
