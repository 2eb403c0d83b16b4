package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// waitFor is eventually for conditions that explain themselves with an
// error.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	eventually(t, timeout, func() (bool, string) {
		ok, err := cond()
		return ok, fmt.Sprintf("%s: %v", what, err)
	})
}

// activePods lists the pods of ns matching selector that are not being
// deleted.
func activePods(c context.Context, ns, selector string) ([]corev1.Pod, error) {
	list, err := cluster.client.CoreV1().Pods(ns).List(c, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// fakeKubelet plays the node agent for pods matching selector: it marks
// them Running and Ready and finishes the deletion of terminating ones.
// It returns how many active pods it saw.
func fakeKubelet(c context.Context, ns, selector string) (int, error) {
	list, err := cluster.client.CoreV1().Pods(ns).List(c, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, err
	}
	active := 0
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp != nil {
			err := cluster.client.CoreV1().Pods(ns).Delete(c, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)})
			if err != nil && !apierrors.IsNotFound(err) {
				return 0, err
			}
			continue
		}
		active++
		if err := markReady(c, p); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return 0, err
		}
	}
	return active, nil
}

func markReady(c context.Context, p *corev1.Pod) error {
	if p.Status.Phase == corev1.PodRunning && podReady(p) {
		return nil
	}
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
	_, err := cluster.client.CoreV1().Pods(p.Namespace).UpdateStatus(c, p, metav1.UpdateOptions{})
	return err
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podTemplate(labels map[string]string, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

func controllerOf(p *corev1.Pod) *metav1.OwnerReference { return metav1.GetControllerOf(p) }

func TestReplicaSetManagesPods(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "web"}
	rs, err := cluster.client.AppsV1().ReplicaSets(ns).Create(c, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr[int32](3), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels, "nginx:1")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	podsAre := func(n int) func() (bool, error) {
		return func() (bool, error) {
			pods, err := activePods(c, ns, "app=web")
			if err != nil || len(pods) != n {
				return false, fmt.Errorf("%d pods, want %d (%v)", len(pods), n, err)
			}
			for _, p := range pods {
				ref := controllerOf(&p)
				if ref == nil || ref.UID != rs.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
					return false, fmt.Errorf("pod %s not controlled by the ReplicaSet: %+v", p.Name, p.OwnerReferences)
				}
				if !strings.HasPrefix(p.Name, "web-") || len(p.Name) != len("web-")+5 {
					return false, fmt.Errorf("pod name %q is not web-<5 random>", p.Name)
				}
			}
			return true, nil
		}
	}
	waitFor(t, 10*time.Second, "3 pods", podsAre(3))
	if _, err := fakeKubelet(c, ns, "app=web"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "status 3 ready", func() (bool, error) {
		rs, err := cluster.client.AppsV1().ReplicaSets(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := rs.Status
		return s.Replicas == 3 && s.FullyLabeledReplicas == 3 && s.ReadyReplicas == 3 && s.AvailableReplicas == 3 &&
			s.ObservedGeneration == rs.Generation, fmt.Errorf("status %+v", s)
	})

	// A deleted pod is replaced.
	pods, _ := activePods(c, ns, "app=web")
	if err := cluster.client.CoreV1().Pods(ns).Delete(c, pods[0].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "replacement pod", func() (bool, error) {
		ok, err := podsAre(3)()
		if !ok {
			return false, err
		}
		now, _ := activePods(c, ns, "app=web")
		for _, p := range now {
			if p.Name == pods[0].Name {
				return false, fmt.Errorf("deleted pod still there")
			}
		}
		return true, nil
	})

	// A pod relabelled out of the selector is released and replaced.
	released := pods[1].Name
	patch := []byte(`{"metadata":{"labels":{"app":"debug"}}}`)
	if _, err := cluster.client.CoreV1().Pods(ns).Patch(c, released, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "release", func() (bool, error) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(c, released, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if len(p.OwnerReferences) != 0 {
			return false, fmt.Errorf("still owned: %+v", p.OwnerReferences)
		}
		return podsAre(3)()
	})

	// Relabelled back, it is adopted; the surplus pod goes.
	patch = []byte(`{"metadata":{"labels":{"app":"web"}}}`)
	if _, err := cluster.client.CoreV1().Pods(ns).Patch(c, released, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "adoption", func() (bool, error) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(c, released, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return podsAre(3)() // adopted, then chosen as the surplus: fine
		}
		if err != nil {
			return false, err
		}
		if ref := controllerOf(p); ref == nil || ref.UID != rs.UID {
			return false, fmt.Errorf("not adopted: %+v", p.OwnerReferences)
		}
		return podsAre(3)()
	})

	// Scale down.
	if _, err := cluster.client.AppsV1().ReplicaSets(ns).Patch(c, "web", "application/merge-patch+json",
		[]byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "1 pod", podsAre(1))
	events, err := cluster.client.CoreV1().Events(ns).List(c, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]bool{}
	for _, e := range events.Items {
		reasons[e.Reason] = true
	}
	waitFor(t, 5*time.Second, "events", func() (bool, error) {
		events, err := cluster.client.CoreV1().Events(ns).List(c, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range events.Items {
			reasons[e.Reason] = true
		}
		return reasons["SuccessfulCreate"] && reasons["SuccessfulDelete"], fmt.Errorf("reasons %v", reasons)
	})
}
