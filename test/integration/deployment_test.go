package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/polymorphichelpers"
)

const (
	revisionAnnotation = "deployment.kubernetes.io/revision"
	hashLabel          = appsv1.DefaultDeploymentUniqueLabelKey
)

func newDeployment(name string, replicas int32, strategy appsv1.DeploymentStrategy) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels, "registry.local/app:v1"), Strategy: strategy},
	}
}

func rollingStrategy(surge, unavailable int) appsv1.DeploymentStrategy {
	return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr(intstr.FromInt(surge)), MaxUnavailable: ptr(intstr.FromInt(unavailable))}}
}

func setImage(t *testing.T, c context.Context, ns, name, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
	if _, err := cluster.client.AppsV1().Deployments(ns).Patch(c, name, "application/strategic-merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// rolledOut reports whether the deployment finished its rollout the way
// `kubectl rollout status` decides it.
func rolledOut(c context.Context, ns, name string) (bool, error) {
	d, err := cluster.client.AppsV1().Deployments(ns).Get(c, name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	s, n := d.Status, *d.Spec.Replicas
	done := d.Status.ObservedGeneration >= d.Generation && s.UpdatedReplicas == n && s.Replicas == n && s.AvailableReplicas == n
	return done, fmt.Errorf("generation %d status %+v", d.Generation, s)
}

func replicaSetsOf(c context.Context, ns, app string) ([]appsv1.ReplicaSet, error) {
	list, err := cluster.client.AppsV1().ReplicaSets(ns).List(c, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// runKubelet marks pods ready until the returned stop is called, calling
// check after each round with the active pods.
func runKubelet(t *testing.T, c context.Context, ns, selector string, check func(pods []corev1.Pod)) (stop func()) {
	c, cancel := context.WithCancel(c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c.Err() == nil {
			if _, err := fakeKubelet(c, ns, selector); err != nil && c.Err() == nil {
				t.Errorf("fake kubelet: %v", err)
				return
			}
			if pods, err := activePods(c, ns, selector); err == nil && check != nil {
				check(pods)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

func TestDeploymentRollingUpdateAndRollback(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	const replicas, surge, unavailable = 4, 1, 1
	d, err := cluster.client.AppsV1().Deployments(ns).Create(c, newDeployment("web", replicas, rollingStrategy(surge, unavailable)), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stop := runKubelet(t, c, ns, "app=web", nil)
	waitFor(t, 10*time.Second, "first rollout", func() (bool, error) { return rolledOut(c, ns, "web") })
	stop()
	rss, err := replicaSetsOf(c, ns, "web")
	if err != nil || len(rss) != 1 {
		t.Fatalf("replica sets %d, %v", len(rss), err)
	}
	first := rss[0]
	if h := first.Labels[hashLabel]; h == "" || first.Name != "web-"+h || first.Spec.Template.Labels[hashLabel] != h ||
		first.Annotations[revisionAnnotation] != "1" || metav1.GetControllerOf(&first).UID != d.UID {
		t.Fatalf("first replica set malformed: name %s labels %v annotations %v", first.Name, first.Labels, first.Annotations)
	}

	// Roll to v2, checking the bounds at every round of the kubelet.
	var maxSeen, minReady = 0, replicas
	stop = runKubelet(t, c, ns, "app=web", func(pods []corev1.Pod) {
		ready := 0
		for i := range pods {
			if podReady(&pods[i]) {
				ready++
			}
		}
		maxSeen, minReady = max(maxSeen, len(pods)), min(minReady, ready)
	})
	setImage(t, c, ns, "web", "registry.local/app:v2")
	waitFor(t, 15*time.Second, "rollout to v2", func() (bool, error) {
		ok, err := rolledOut(c, ns, "web")
		if !ok {
			return false, err
		}
		rss, err := replicaSetsOf(c, ns, "web")
		if err != nil || len(rss) != 2 {
			return false, fmt.Errorf("%d replica sets (%v)", len(rss), err)
		}
		for _, rs := range rss {
			want := int32(0)
			if rs.Spec.Template.Spec.Containers[0].Image == "registry.local/app:v2" {
				want = replicas
			}
			if *rs.Spec.Replicas != want || rs.Status.Replicas != want {
				return false, fmt.Errorf("%s has %d/%d replicas, want %d", rs.Name, *rs.Spec.Replicas, rs.Status.Replicas, want)
			}
		}
		return true, nil
	})
	stop()
	if maxSeen > replicas+surge {
		t.Errorf("saw %d pods, more than replicas+maxSurge=%d", maxSeen, replicas+surge)
	}
	if minReady < replicas-unavailable {
		t.Errorf("saw %d ready pods, fewer than replicas-maxUnavailable=%d", minReady, replicas-unavailable)
	}
	d, _ = cluster.client.AppsV1().Deployments(ns).Get(c, "web", metav1.GetOptions{})
	if d.Annotations[revisionAnnotation] != "2" {
		t.Errorf("deployment revision %q, want 2", d.Annotations[revisionAnnotation])
	}

	// kubectl rollout undo, with kubectl's own code.
	rb, err := polymorphichelpers.RollbackerFor(schema.GroupKind{Group: "apps", Kind: "Deployment"}, cluster.client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Rollback(d, nil, 0, cmdutil.DryRunNone); err != nil {
		t.Fatalf("rollout undo: %v", err)
	}
	stop = runKubelet(t, c, ns, "app=web", nil)
	defer stop()
	waitFor(t, 15*time.Second, "rollback to v1", func() (bool, error) {
		ok, err := rolledOut(c, ns, "web")
		if !ok {
			return false, err
		}
		rs, err := cluster.client.AppsV1().ReplicaSets(ns).Get(c, first.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return *rs.Spec.Replicas == replicas && rs.Annotations[revisionAnnotation] == "3",
			fmt.Errorf("%s: %d replicas, revision %s", rs.Name, *rs.Spec.Replicas, rs.Annotations[revisionAnnotation])
	})
	d, _ = cluster.client.AppsV1().Deployments(ns).Get(c, "web", metav1.GetOptions{})
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.local/app:v1" {
		t.Errorf("template image after undo %q", img)
	}
	progressing := condition(d, appsv1.DeploymentProgressing)
	if progressing == nil || progressing.Reason != "NewReplicaSetAvailable" {
		t.Errorf("Progressing condition %+v, want reason NewReplicaSetAvailable", progressing)
	}
	if av := condition(d, appsv1.DeploymentAvailable); av == nil || av.Status != corev1.ConditionTrue {
		t.Errorf("Available condition %+v", av)
	}
}

func condition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

func TestDeploymentRecreate(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	recreate := appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if _, err := cluster.client.AppsV1().Deployments(ns).Create(c, newDeployment("db", 2, recreate), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stop := runKubelet(t, c, ns, "app=db", nil)
	waitFor(t, 10*time.Second, "first rollout", func() (bool, error) { return rolledOut(c, ns, "db") })
	stop()
	mixed := false
	stop = runKubelet(t, c, ns, "app=db", func(pods []corev1.Pod) {
		images := map[string]bool{}
		for _, p := range pods {
			images[p.Spec.Containers[0].Image] = true
		}
		mixed = mixed || len(images) > 1
	})
	setImage(t, c, ns, "db", "registry.local/app:v2")
	waitFor(t, 10*time.Second, "rollout to v2", func() (bool, error) {
		ok, err := rolledOut(c, ns, "db")
		if !ok {
			return false, err
		}
		pods, err := activePods(c, ns, "app=db")
		return err == nil && len(pods) == 2 && pods[0].Spec.Containers[0].Image == "registry.local/app:v2", err
	})
	stop()
	if mixed {
		t.Error("old and new pods ran at the same time")
	}
}

func TestDeploymentPaused(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	if _, err := cluster.client.AppsV1().Deployments(ns).Create(c, newDeployment("web", 2, rollingStrategy(1, 0)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stop := runKubelet(t, c, ns, "app=web", nil)
	defer stop()
	waitFor(t, 10*time.Second, "first rollout", func() (bool, error) { return rolledOut(c, ns, "web") })
	pause := []byte(`{"spec":{"paused":true}}`)
	if _, err := cluster.client.AppsV1().Deployments(ns).Patch(c, "web", "application/merge-patch+json", pause, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	setImage(t, c, ns, "web", "registry.local/app:v2")
	waitFor(t, 5*time.Second, "paused condition", func() (bool, error) {
		d, err := cluster.client.AppsV1().Deployments(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		p := condition(d, appsv1.DeploymentProgressing)
		return p != nil && p.Reason == "DeploymentPaused" && p.Status == corev1.ConditionUnknown && d.Status.ObservedGeneration == d.Generation,
			fmt.Errorf("conditions %+v", d.Status.Conditions)
	})
	time.Sleep(500 * time.Millisecond)
	if rss, _ := replicaSetsOf(c, ns, "web"); len(rss) != 1 {
		t.Fatalf("a paused deployment rolled: %d replica sets", len(rss))
	}
	resume := []byte(`{"spec":{"paused":false}}`)
	if _, err := cluster.client.AppsV1().Deployments(ns).Patch(c, "web", "application/merge-patch+json", resume, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "rollout after resume", func() (bool, error) {
		ok, err := rolledOut(c, ns, "web")
		if !ok {
			return false, err
		}
		rss, err := replicaSetsOf(c, ns, "web")
		return err == nil && len(rss) == 2, fmt.Errorf("%d replica sets", len(rss))
	})
}

func TestDeploymentProgressDeadline(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	d := newDeployment("stuck", 2, rollingStrategy(1, 0))
	d.Spec.ProgressDeadlineSeconds = ptr[int32](2)
	if _, err := cluster.client.AppsV1().Deployments(ns).Create(c, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// No kubelet: the pods never become ready.
	waitFor(t, 10*time.Second, "ProgressDeadlineExceeded", func() (bool, error) {
		d, err := cluster.client.AppsV1().Deployments(ns).Get(c, "stuck", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		p := condition(d, appsv1.DeploymentProgressing)
		return p != nil && p.Status == corev1.ConditionFalse && p.Reason == "ProgressDeadlineExceeded",
			fmt.Errorf("conditions %+v", d.Status.Conditions)
	})
}
