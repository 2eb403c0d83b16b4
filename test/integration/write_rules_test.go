package integration

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

func TestPatchTypes(t *testing.T) {
	ns := newNamespace(t)
	deps := cluster.client.AppsV1().Deployments(ns)
	d := deployment("web", 1)
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar", Image: "example.test/side:v1"})
	if _, err := deps.Create(ctx(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Strategic merge: containers merge by name, so the sidecar stays.
	got, err := deps.Patch(ctx(t), "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"example.test/web:v2"}]}}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := got.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[0].Image != "example.test/web:v2" || cs[1].Name != "sidecar" {
		t.Fatalf("strategic merge patch result: %+v", cs)
	}
	// Merge patch: lists are replaced whole.
	got, err = deps.Patch(ctx(t), "web", types.MergePatchType, []byte(`{"metadata":{"labels":{"patched":"merge"}},"spec":{"replicas":4}}`), metav1.PatchOptions{})
	if err != nil || got.Labels["patched"] != "merge" || *got.Spec.Replicas != 4 {
		t.Fatalf("merge patch: %v %+v", err, got)
	}
	// JSON patch, including a failing test operation.
	got, err = deps.Patch(ctx(t), "web", types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/replicas","value":2},{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]`), metav1.PatchOptions{})
	if err != nil || *got.Spec.Replicas != 2 || got.Annotations["a"] != "b" {
		t.Fatalf("json patch: %v %+v", err, got)
	}
	_, err = deps.Patch(ctx(t), "web", types.JSONPatchType, []byte(`[{"op":"test","path":"/spec/replicas","value":9}]`), metav1.PatchOptions{})
	if err == nil || apierrors.IsInternalError(err) {
		t.Fatalf("failing json patch test op: %v, want a 4xx", err)
	}
	_, err = deps.Patch(ctx(t), "web", types.MergePatchType, []byte(`{"spec":{"replicas":"many"}}`), metav1.PatchOptions{})
	if !apierrors.IsBadRequest(err) {
		t.Fatalf("patch to a wrong type: %v, want BadRequest", err)
	}
	_, err = deps.Patch(ctx(t), "web", types.MergePatchType, []byte(`{"spec":{"replicas":-1}}`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("patch to an invalid value: %v, want Invalid", err)
	}
	_, err = deps.Patch(ctx(t), "web", types.MergePatchType, []byte(`{"metadata":{"resourceVersion":"1"},"spec":{"replicas":1}}`), metav1.PatchOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("patch with a stale resourceVersion: %v, want Conflict", err)
	}
	_, err = deps.Patch(ctx(t), "missing", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("patch of a missing object: %v, want NotFound", err)
	}
}

func TestFinalizers(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	_, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.test/hold"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx(t), "held", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, err := cms.Get(ctx(t), "held", metav1.GetOptions{})
	if err != nil || cm.DeletionTimestamp == nil {
		t.Fatalf("object with a finalizer: %v %+v, want it kept with deletionTimestamp", err, cm)
	}
	cm.Finalizers = append(cm.Finalizers, "example.test/another")
	if _, err := cms.Update(ctx(t), cm, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("adding a finalizer while deleting: %v, want Invalid", err)
	}
	cm, _ = cms.Get(ctx(t), "held", metav1.GetOptions{})
	cm.Finalizers = nil
	if _, err := cms.Update(ctx(t), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx(t), "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after the last finalizer went: %v, want NotFound", err)
	}
}

func TestPodGracefulDeletion(t *testing.T) {
	ns := newNamespace(t)
	pods := cluster.client.CoreV1().Pods(ns)
	if _, err := pods.Create(ctx(t), pod("bound", "node-a", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx(t), pod("pending", "", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx(t), "pending", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx(t), "pending", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("unscheduled pod should go at once: %v", err)
	}
	if err := pods.Delete(ctx(t), "bound", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := pods.Get(ctx(t), "bound", metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("bound pod after delete: %v %+v, want deletionTimestamp and grace 30", err, p)
	}
	if err := pods.Delete(ctx(t), "bound", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx(t), "bound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pod after grace-0 delete: %v, want NotFound", err)
	}
}

func TestNamespaceRules(t *testing.T) {
	for _, name := range []string{"default", "kube-system", "kube-public"} {
		if err := cluster.client.CoreV1().Namespaces().Delete(ctx(t), name, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); !apierrors.IsForbidden(err) {
			t.Fatalf("delete namespace %s: %v, want Forbidden", name, err)
		}
	}
	_, err := cluster.client.CoreV1().ConfigMaps("does-not-exist").Create(ctx(t),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("create in a missing namespace: %v, want NotFound", err)
	}
	ns := newNamespace(t)
	if err := cluster.client.CoreV1().Namespaces().Delete(ctx(t), ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cluster.client.CoreV1().Namespaces().Get(ctx(t), ns, metav1.GetOptions{})
	if err == nil && got.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("deleted namespace phase %s, want Terminating", got.Status.Phase)
	}
	if err == nil {
		_, err = cluster.client.CoreV1().ConfigMaps(ns).Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("create in a terminating namespace: %v, want Forbidden", err)
		}
	}
}

func TestStatusAndSpecAreSeparate(t *testing.T) {
	ns := newNamespace(t)
	pods := cluster.client.CoreV1().Pods(ns)
	// Bound to a node no agent serves, so nothing else writes to it.
	p, err := pods.Create(ctx(t), pod("p", "nowhere", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	p.Labels = map[string]string{"changed": "yes"}
	if p, err = pods.Update(ctx(t), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodPending || p.Labels["changed"] != "yes" {
		t.Fatalf("main update: phase %s (want Pending), labels %v", p.Status.Phase, p.Labels)
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = "10.42.0.9"
	p.Spec.ActiveDeadlineSeconds = ptr(int64(5))
	if p, err = pods.UpdateStatus(ctx(t), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "10.42.0.9" || p.Spec.ActiveDeadlineSeconds != nil {
		t.Fatalf("status update: phase %s podIP %q activeDeadline %v; want Running, 10.42.0.9, unset",
			p.Status.Phase, p.Status.PodIP, p.Spec.ActiveDeadlineSeconds)
	}
}

func TestDryRun(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	dry := []string{metav1.DryRunAll}
	got, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}, metav1.CreateOptions{DryRun: dry})
	if err != nil || got.Name != "dry" || got.UID == "" {
		t.Fatalf("dry-run create: %v %+v", err, got)
	}
	if _, err := cms.Get(ctx(t), "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry-run create stored the object: %v", err)
	}
	cm, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "real"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = "changed"
	if got, err = cms.Update(ctx(t), cm, metav1.UpdateOptions{DryRun: dry}); err != nil || got.Data["k"] != "changed" {
		t.Fatalf("dry-run update: %v %+v", err, got)
	}
	if _, err := cms.Patch(ctx(t), "real", types.MergePatchType, []byte(`{"data":{"k":"patched"}}`), metav1.PatchOptions{DryRun: dry}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx(t), "real", metav1.DeleteOptions{DryRun: dry}); err != nil {
		t.Fatal(err)
	}
	stored, err := cms.Get(ctx(t), "real", metav1.GetOptions{})
	if err != nil || stored.Data["k"] != "v" || stored.ResourceVersion != cm.ResourceVersion {
		t.Fatalf("dry runs changed the stored object: %v %+v", err, stored)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "dry"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := cluster.client.CoreV1().Services(ns).Create(ctx(t), svc, metav1.CreateOptions{DryRun: dry}); err != nil {
		t.Fatal(err)
	}
}

func TestScaleSubresource(t *testing.T) {
	ns := newNamespace(t)
	deps := cluster.client.AppsV1().Deployments(ns)
	if _, err := deps.Create(ctx(t), deployment("web", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sc, err := deps.GetScale(ctx(t), "web", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 1 || sc.Status.Selector != "app=web" {
		t.Fatalf("get scale: %v %+v", err, sc)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc, err := deps.GetScale(ctx(t), "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		sc.Spec.Replicas = 5
		_, err = deps.UpdateScale(ctx(t), "web", sc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := deps.Get(ctx(t), "web", metav1.GetOptions{})
	if *d.Spec.Replicas != 5 {
		t.Fatalf("replicas after scale = %d", *d.Spec.Replicas)
	}
}

func TestServiceAllocation(t *testing.T) {
	ns := newNamespace(t)
	svcs := cluster.client.CoreV1().Services(ns)
	a, err := svcs.Create(ctx(t), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "a"}, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Spec.ClusterIP == "" || a.Spec.ClusterIP[:5] != "10.43" || a.Spec.Ports[0].NodePort < 30000 || a.Spec.Ports[0].NodePort > 32767 {
		t.Fatalf("allocation: clusterIP %q nodePort %d", a.Spec.ClusterIP, a.Spec.Ports[0].NodePort)
	}
	if a.Spec.Ports[0].TargetPort.IntValue() != 80 {
		t.Fatalf("targetPort default = %v, want 80", a.Spec.Ports[0].TargetPort)
	}
	_, err = svcs.Create(ctx(t), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: corev1.ServiceSpec{
		ClusterIP: a.Spec.ClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("duplicate clusterIP: %v, want Invalid", err)
	}
	a.Spec.ClusterIP = "10.43.99.99"
	a.Spec.ClusterIPs = []string{"10.43.99.99"}
	if _, err := svcs.Update(ctx(t), a, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("changing clusterIP: %v, want Invalid", err)
	}
}

func TestDeleteCollection(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	for _, n := range []string{"a", "b", "c"} {
		l := map[string]string{"del": "yes"}
		if n == "c" {
			l = nil
		}
		if _, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: l}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cms.DeleteCollection(ctx(t), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "del=yes"}); err != nil {
		t.Fatal(err)
	}
	list, _ := cms.List(ctx(t), metav1.ListOptions{FieldSelector: notRootCA})
	if len(list.Items) != 1 || list.Items[0].Name != "c" {
		t.Fatalf("after deletecollection: %+v", list.Items)
	}
}

func TestStatefulSetWithClaimTemplatesCanBeUpdated(t *testing.T) {
	ns := newNamespace(t)
	labels := map[string]string{"app": "db"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr(int32(0)), ServiceName: "db",
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "example.test/db:v1"}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
			}},
		},
	}
	if _, err := cluster.client.AppsV1().StatefulSets(ns).Create(ctx(t), sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The claim templates' type meta is not stored; an update that leaves
	// them alone must not look like a change to them.
	if _, err := cluster.client.AppsV1().StatefulSets(ns).Patch(ctx(t), "db", types.MergePatchType, []byte(`{"spec":{"replicas":0,"minReadySeconds":1}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch of a StatefulSet with claim templates: %v", err)
	}
}
