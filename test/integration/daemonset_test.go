package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/pkg/controller/daemonset"
)

// dsNode creates a Ready node in the test's group (label tug.test/ds=ns),
// with extra labels and taints.
func dsNode(t *testing.T, ns, name string, labels map[string]string, taints ...corev1.Taint) {
	t.Helper()
	l := map[string]string{"tug.test/ds": ns}
	for k, v := range labels {
		l[k] = v
	}
	created, err := cluster.client.CoreV1().Nodes().Create(ctx(t), &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l},
		Spec:       corev1.NodeSpec{Taints: taints},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	t.Cleanup(func() { _ = cluster.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	for {
		created.Status = corev1.NodeStatus{Capacity: res, Allocatable: res, Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}}
		_, err := cluster.client.CoreV1().Nodes().UpdateStatus(ctx(t), created, metav1.UpdateOptions{})
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("node status %s: %v", name, err)
		}
		// Controllers write new nodes too (pod CIDR, taints): retry on the
		// fresh object.
		if created, err = cluster.client.CoreV1().Nodes().Get(ctx(t), name, metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// daemonPodsByNode maps each node to the images of the active daemon
// pods there, checking that each pod is bound where its affinity pins it.
func daemonPodsByNode(c context.Context, ns, selector string) (map[string][]string, error) {
	pods, err := activePods(c, ns, selector)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, p := range pods {
		target := daemonset.TargetNode(&p)
		if p.Spec.NodeName != target {
			return nil, fmt.Errorf("pod %s bound to %q, pinned to %q", p.Name, p.Spec.NodeName, target)
		}
		out[target] = append(out[target], p.Spec.Containers[0].Image)
	}
	return out, nil
}

func TestDaemonSetOnePodPerEligibleNode(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	plain, tainted, ssd, late := ns+"-plain", ns+"-tainted", ns+"-ssd", ns+"-late"
	dsNode(t, ns, plain, nil)
	dsNode(t, ns, tainted, nil, corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
	dsNode(t, ns, ssd, map[string]string{"disk": "ssd"})

	labels := map[string]string{"app": "agent"}
	tpl := podTemplate(labels, "agent:1")
	tpl.Spec.NodeSelector = map[string]string{"tug.test/ds": ns}
	tpl.Spec.TerminationGracePeriodSeconds = ptr[int64](0)
	_, err := cluster.client.AppsV1().DaemonSets(ns).Create(c, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ssdTpl := podTemplate(map[string]string{"app": "cache"}, "cache:1")
	ssdTpl.Spec.NodeSelector = map[string]string{"tug.test/ds": ns, "disk": "ssd"}
	_, err = cluster.client.AppsV1().DaemonSets(ns).Create(c, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "cache"},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}}, Template: ssdTpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	placed := func(selector string, want map[string][]string) func() (bool, error) {
		return func() (bool, error) {
			got, err := daemonPodsByNode(c, ns, selector)
			if err != nil {
				return false, err
			}
			if _, err := fakeKubelet(c, ns, selector); err != nil {
				return false, err
			}
			return fmt.Sprint(got) == fmt.Sprint(want), fmt.Errorf("pods by node %v, want %v", got, want)
		}
	}
	waitFor(t, 10*time.Second, "agent on plain and ssd", placed("app=agent", map[string][]string{plain: {"agent:1"}, ssd: {"agent:1"}}))
	waitFor(t, 10*time.Second, "cache on ssd only", placed("app=cache", map[string][]string{ssd: {"cache:1"}}))
	waitFor(t, 10*time.Second, "agent status", func() (bool, error) {
		ds, err := cluster.client.AppsV1().DaemonSets(ns).Get(c, "agent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := ds.Status
		return s.DesiredNumberScheduled == 2 && s.CurrentNumberScheduled == 2 && s.NumberReady == 2 && s.NumberAvailable == 2 &&
			s.UpdatedNumberScheduled == 2 && s.NumberMisscheduled == 0 && s.NumberUnavailable == 0 &&
			s.ObservedGeneration == ds.Generation, fmt.Errorf("status %+v", s)
	})

	// A new node gets a pod; a node that loses the label loses it.
	dsNode(t, ns, late, nil)
	waitFor(t, 10*time.Second, "agent on the new node",
		placed("app=agent", map[string][]string{late: {"agent:1"}, plain: {"agent:1"}, ssd: {"agent:1"}}))
	n, err := cluster.client.CoreV1().Nodes().Get(c, plain, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(n.Labels, "tug.test/ds")
	if _, err := cluster.client.CoreV1().Nodes().Update(c, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "agent leaves the unlabelled node",
		placed("app=agent", map[string][]string{late: {"agent:1"}, ssd: {"agent:1"}}))
}

func TestDaemonSetRollingUpdate(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	nodes := []string{ns + "-a", ns + "-b", ns + "-c"}
	for _, n := range nodes {
		dsNode(t, ns, n, nil)
	}
	labels := map[string]string{"app": "logs"}
	tpl := podTemplate(labels, "logs:1")
	tpl.Spec.NodeSelector = map[string]string{"tug.test/ds": ns}
	_, err := cluster.client.AppsV1().DaemonSets(ns).Create(c, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "logs"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl,
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(1))}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	allOn := func(image string) func() (bool, error) {
		return func() (bool, error) {
			if _, err := fakeKubelet(c, ns, "app=logs"); err != nil {
				return false, err
			}
			got, err := daemonPodsByNode(c, ns, "app=logs")
			if err != nil {
				return false, err
			}
			if len(got) > len(nodes) {
				return false, fmt.Errorf("pods on %d nodes", len(got))
			}
			for _, n := range nodes {
				if !slices.Equal(got[n], []string{image}) {
					return false, fmt.Errorf("pods by node %v, want %s everywhere", got, image)
				}
			}
			ds, err := cluster.client.AppsV1().DaemonSets(ns).Get(c, "logs", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			s := ds.Status
			return s.UpdatedNumberScheduled == 3 && s.NumberAvailable == 3 && s.ObservedGeneration == ds.Generation,
				fmt.Errorf("status %+v", s)
		}
	}
	waitFor(t, 10*time.Second, "logs:1 on every node", allOn("logs:1"))

	for {
		ds, err := cluster.client.AppsV1().DaemonSets(ns).Get(c, "logs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds.Spec.Template.Spec.Containers[0].Image = "logs:2"
		_, err = cluster.client.AppsV1().DaemonSets(ns).Update(c, ds, metav1.UpdateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
	}
	// maxUnavailable 1: never fewer than two available pods of either
	// version while the update rolls.
	maxDown := 0
	waitFor(t, 15*time.Second, "logs:2 on every node", func() (bool, error) {
		pods, err := activePods(c, ns, "app=logs")
		if err != nil {
			return false, err
		}
		ready := 0
		for _, p := range pods {
			if podReady(&p) {
				ready++
			}
		}
		maxDown = max(maxDown, len(nodes)-ready)
		return allOn("logs:2")()
	})
	if maxDown > 1 {
		t.Errorf("%d nodes without a ready pod at once, maxUnavailable is 1", maxDown)
	}
	revs, err := cluster.client.AppsV1().ControllerRevisions(ns).List(c, metav1.ListOptions{LabelSelector: "app=logs"})
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int64
	for _, r := range revs.Items {
		numbers = append(numbers, r.Revision)
	}
	slices.Sort(numbers)
	if !slices.Equal(numbers, []int64{1, 2}) {
		t.Fatalf("revision numbers %v, want [1 2]", numbers)
	}
}
