package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNamespaceDeletionRemovesContent(t *testing.T) {
	ns := newNamespace(t)
	c := cluster.client
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Other tests' nodes must not attract these pods: a selector no node has.
	nowhere := map[string]string{"tug.test/node": "none"}
	d := deployment("web", 1)
	d.Spec.Template.Spec.NodeSelector = nowhere
	if _, err := c.AppsV1().Deployments(ns).Create(ctx(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	unscheduled := pod("unscheduled", "", nil)
	unscheduled.Spec.NodeSelector = nowhere
	if _, err := c.CoreV1().Pods(ns).Create(ctx(t), unscheduled, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Bound to a node that does not exist: it keeps its grace period, then
	// is force-deleted because no agent will ever remove it.
	bound := pod("bound", "no-such-node", nil)
	bound.Spec.TerminationGracePeriodSeconds = ptr(int64(2))
	if _, err := c.CoreV1().Pods(ns).Create(ctx(t), bound, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := c.CoreV1().Namespaces().Delete(ctx(t), ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		got, err := c.CoreV1().Namespaces().Get(ctx(t), ns, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Sprintf("get namespace: %v", err)
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == corev1.NamespaceContentRemaining && cond.Status == corev1.ConditionTrue {
				return strings.Contains(cond.Message, "pods. has 1 resource instances"), cond.Message
			}
		}
		return false, fmt.Sprintf("conditions %+v", got.Status.Conditions)
	})
	for _, check := range []struct {
		what string
		get  func() error
	}{
		{"configmap", func() error {
			_, err := c.CoreV1().ConfigMaps(ns).Get(ctx(t), "settings", metav1.GetOptions{})
			return err
		}},
		{"deployment", func() error { _, err := c.AppsV1().Deployments(ns).Get(ctx(t), "web", metav1.GetOptions{}); return err }},
		{"unscheduled pod", func() error {
			_, err := c.CoreV1().Pods(ns).Get(ctx(t), "unscheduled", metav1.GetOptions{})
			return err
		}},
	} {
		if err := check.get(); !apierrors.IsNotFound(err) {
			t.Errorf("%s in a terminating namespace: %v, want NotFound", check.what, err)
		}
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		_, err := c.CoreV1().Namespaces().Get(ctx(t), ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprintf("namespace still there: %v", err)
	})
	if _, err := c.CoreV1().Pods(ns).Get(ctx(t), "bound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("bound pod after the namespace went: %v, want NotFound", err)
	}
}

func TestNamespaceWaitsForFinalizers(t *testing.T) {
	ns := newNamespace(t)
	cms := cluster.client.CoreV1().ConfigMaps(ns)
	held := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.test/hold"}}}
	if _, err := cms.Create(ctx(t), held, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cluster.client.CoreV1().Namespaces().Delete(ctx(t), ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		got, err := cluster.client.CoreV1().Namespaces().Get(ctx(t), ns, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == corev1.NamespaceFinalizersRemaining && cond.Status == corev1.ConditionTrue {
				want := "Some content in the namespace has finalizers remaining: example.test/hold in 1 resource instances"
				return cond.Message == want, cond.Message
			}
		}
		return false, fmt.Sprintf("conditions %+v", got.Status.Conditions)
	})
	cm, err := cms.Get(ctx(t), "held", metav1.GetOptions{})
	if err != nil || cm.DeletionTimestamp == nil {
		t.Fatalf("held configmap: %v %+v, want it being deleted", err, cm)
	}
	cm.Finalizers = nil
	if _, err := cms.Update(ctx(t), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		_, err := cluster.client.CoreV1().Namespaces().Get(ctx(t), ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprintf("namespace still there: %v", err)
	})
}
