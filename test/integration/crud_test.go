package integration

import (
	"fmt"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "web", Image: "example.test/web:v1", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}},
				}},
			},
		},
	}
}

// updateDeployment applies mutate to the current Deployment and updates
// it, retrying when a controller wrote in between.
func updateDeployment(t *testing.T, ns, name string, mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	t.Helper()
	deps := cluster.client.AppsV1().Deployments(ns)
	var out *appsv1.Deployment
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deps.Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(d)
		out, err = deps.Update(ctx(t), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("update deployment %s: %v", name, err)
	}
	return out
}

func TestCRUD(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	created, err := cms.Create(ctx(t), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "settings", Labels: map[string]string{"tier": "web"}},
		Data:       map[string]string{"color": "blue"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || created.CreationTimestamp.IsZero() || created.Namespace != ns {
		t.Fatalf("create did not fill uid/creationTimestamp/namespace: %+v", created.ObjectMeta)
	}
	if _, err := strconv.ParseUint(created.ResourceVersion, 10, 64); err != nil {
		t.Fatalf("resourceVersion %q is not a revision", created.ResourceVersion)
	}
	if _, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}}, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	got, err := cms.Get(ctx(t), "settings", metav1.GetOptions{})
	if err != nil || got.Data["color"] != "blue" || got.ResourceVersion != created.ResourceVersion {
		t.Fatalf("get: %v %+v", err, got)
	}
	got.Data["color"] = "green"
	updated, err := cms.Update(ctx(t), got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if updated.ResourceVersion == got.ResourceVersion || updated.UID != created.UID {
		t.Fatalf("update kept rv or changed uid: %+v", updated.ObjectMeta)
	}
	list, err := cms.List(ctx(t), metav1.ListOptions{FieldSelector: notRootCA})
	if err != nil || len(list.Items) != 1 || list.Items[0].Data["color"] != "green" {
		t.Fatalf("list: %v %+v", err, list)
	}
	if err := cms.Delete(ctx(t), "settings", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx(t), "settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
	if err := cms.Delete(ctx(t), "settings", metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("second delete: %v, want NotFound", err)
	}
}

func TestGenerateName(t *testing.T) {
	ns := newNamespace(t)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		cm, err := cluster.client.CoreV1().ConfigMaps(ns).Create(ctx(t), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cm.Name) != len("gen-")+5 || cm.Name[:4] != "gen-" || seen[cm.Name] {
			t.Fatalf("generated name %q", cm.Name)
		}
		seen[cm.Name] = true
	}
}

func TestConflictOnStaleResourceVersion(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := cm.DeepCopy()
	first.Data = map[string]string{"a": "1"}
	if _, err := cms.Update(ctx(t), first, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := cm.DeepCopy()
	stale.Data = map[string]string{"a": "2"}
	_, err = cms.Update(ctx(t), stale, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("stale update: %v, want Conflict", err)
	}
	got, _ := cms.Get(ctx(t), "c", metav1.GetOptions{})
	if got.Data["a"] != "1" {
		t.Fatalf("stale update was written: %v", got.Data)
	}
}

func TestGenerationOnSpecChangesOnly(t *testing.T) {
	ns := newNamespace(t)
	deps := cluster.client.AppsV1().Deployments(ns)
	d, err := deps.Create(ctx(t), deployment("web", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Generation != 1 {
		t.Fatalf("generation after create = %d", d.Generation)
	}
	d = updateDeployment(t, ns, "web", func(d *appsv1.Deployment) { d.Labels = map[string]string{"x": "y"} })
	if d.Generation != 1 {
		t.Fatalf("label change bumped generation to %d", d.Generation)
	}
	d = updateDeployment(t, ns, "web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(3)) })
	if d.Generation != 2 {
		t.Fatalf("spec change left generation at %d", d.Generation)
	}
}

func TestDefaultsApplied(t *testing.T) {
	ns := newNamespace(t)
	d, err := cluster.client.AppsV1().Deployments(ns).Create(ctx(t), deployment("web", 2), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 10 {
		t.Fatalf("deployment defaults missing: %+v", d.Spec)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.ImagePullPolicy != corev1.PullIfNotPresent || c.TerminationMessagePath != "/dev/termination-log" || c.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Fatalf("container defaults missing: %+v", c)
	}
	if d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || d.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Fatalf("pod spec defaults missing: %+v", d.Spec.Template.Spec)
	}
}

func TestClusterScopedAndSystemNamespaces(t *testing.T) {
	for _, name := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		ns, err := cluster.client.CoreV1().Namespaces().Get(ctx(t), name, metav1.GetOptions{})
		if err != nil || ns.Status.Phase != corev1.NamespaceActive {
			t.Fatalf("namespace %s: %v %+v", name, err, ns)
		}
	}
	svc, err := cluster.client.CoreV1().Services("default").Get(ctx(t), "kubernetes", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != "10.43.0.1" {
		t.Fatalf("kubernetes service: %v %+v", err, svc)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", nsCounter.Add(1))},
		Spec:   corev1.NodeSpec{Unschedulable: true}, // no agent: keep other tests' pods away
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}}}
	created, err := cluster.client.CoreV1().Nodes().Create(ctx(t), node, metav1.CreateOptions{})
	if err != nil || created.Namespace != "" {
		t.Fatalf("create node: %v %+v", err, created)
	}
	// Nodes register with their status, unlike most kinds.
	if created.Status.Capacity.Pods().Value() != 110 {
		t.Fatalf("node status not kept on create: %+v", created.Status)
	}
}
