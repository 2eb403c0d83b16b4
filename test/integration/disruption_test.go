package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
)

const violationMessage = "Cannot evict pod as it would violate the pod's disruption budget."

// noScheduler names a scheduler that does not run: the test pods stay
// off whatever nodes other tests registered, and nothing but the tests,
// which play the node agent, writes their status.
const noScheduler = "disruption-test-no-scheduler"

func newBudget(name string, sel *metav1.LabelSelector, minAvailable, maxUnavailable string) *policyv1.PodDisruptionBudget {
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: policyv1.PodDisruptionBudgetSpec{Selector: sel}}
	if minAvailable != "" {
		pdb.Spec.MinAvailable = ptr(intstr.Parse(minAvailable))
	}
	if maxUnavailable != "" {
		pdb.Spec.MaxUnavailable = ptr(intstr.Parse(maxUnavailable))
	}
	return pdb
}

func createBudget(t *testing.T, ns string, pdb *policyv1.PodDisruptionBudget) {
	t.Helper()
	if _, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx(t), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// budgetStatus is the part of a budget's status the tests compare.
type budgetStatus struct{ expected, desired, healthy, allowed int32 }

// waitBudget waits until the budget's status, computed for its current
// generation, shows want; it returns the budget.
func waitBudget(t *testing.T, ns, name string, want budgetStatus) *policyv1.PodDisruptionBudget {
	t.Helper()
	var pdb *policyv1.PodDisruptionBudget
	waitFor(t, 15*time.Second, "budget "+name, func() (bool, error) {
		var err error
		pdb, err = cluster.client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := pdb.Status
		got := budgetStatus{s.ExpectedPods, s.DesiredHealthy, s.CurrentHealthy, s.DisruptionsAllowed}
		cond := apimeta.FindStatusCondition(s.Conditions, policyv1.DisruptionAllowedCondition)
		wantReason := policyv1.InsufficientPodsReason
		if want.allowed > 0 {
			wantReason = policyv1.SufficientPodsReason
		}
		ok := got == want && s.ObservedGeneration == pdb.Generation && cond != nil && cond.Reason == wantReason &&
			(cond.Status == metav1.ConditionTrue) == (want.allowed > 0)
		return ok, fmt.Errorf("status %+v (gen %d, %+v), want %+v", got, pdb.Generation, cond, want)
	})
	return pdb
}

// bareTestPod creates a pod without a controller; ready says how the test
// reports it: nil leaves it Pending, otherwise Running with that Ready.
func bareTestPod(t *testing.T, ns, name string, labels map[string]string, ready *bool) {
	t.Helper()
	p := pod(name, "", labels)
	p.Spec.SchedulerName = noScheduler
	created, err := cluster.client.CoreV1().Pods(ns).Create(ctx(t), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ready != nil {
		if err := setRunning(ctx(t), created, *ready); err != nil {
			t.Fatal(err)
		}
	}
}

func setRunning(c context.Context, p *corev1.Pod, ready bool) error {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	_, err := cluster.client.CoreV1().Pods(p.Namespace).UpdateStatus(c, p, metav1.UpdateOptions{})
	return err
}

func evict(c context.Context, ns, name string, dryRun bool) error {
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if dryRun {
		ev.DeleteOptions = &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}
	}
	return cluster.client.PolicyV1().Evictions(ns).Evict(c, ev)
}

func expectViolation(t *testing.T, err error, cause string) {
	t.Helper()
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("eviction: %v, want 429", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Message != violationMessage {
		t.Errorf("message %q, want %q", st.Message, violationMessage)
	}
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != policyv1.DisruptionBudgetCause ||
		!strings.Contains(st.Details.Causes[0].Message, cause) {
		t.Errorf("details %+v, want a DisruptionBudget cause with %q", st.Details, cause)
	}
}

func webReplicaSet(replicas int32) *appsv1.ReplicaSet {
	labels := map[string]string{"app": "web"}
	tmpl := podTemplate(labels, "nginx:1")
	tmpl.Spec.SchedulerName = noScheduler
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}
}

func readyWebPods(t *testing.T, c context.Context, ns string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	waitFor(t, 15*time.Second, fmt.Sprintf("%d ready pods", n), func() (bool, error) {
		if _, err := fakeKubelet(c, ns, "app=web"); err != nil {
			return false, err
		}
		var err error
		pods, err = activePods(c, ns, "app=web")
		ready := 0
		for _, p := range pods {
			if podReady(&p) {
				ready++
			}
		}
		return err == nil && len(pods) == n && ready == n, fmt.Errorf("%d pods, %d ready (%v)", len(pods), ready, err)
	})
	return pods
}

func TestDisruptionBudgetStatus(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	if _, err := cluster.client.AppsV1().ReplicaSets(ns).Create(c, webReplicaSet(3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	readyWebPods(t, c, ns, 3)
	web := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	createBudget(t, ns, newBudget("min-int", web, "2", ""))
	createBudget(t, ns, newBudget("min-all", web, "100%", ""))
	createBudget(t, ns, newBudget("max-pct", web, "", "34%"))
	createBudget(t, ns, newBudget("everything", &metav1.LabelSelector{}, "1", ""))
	createBudget(t, ns, newBudget("nothing", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, "1", ""))
	waitBudget(t, ns, "min-int", budgetStatus{expected: 3, desired: 2, healthy: 3, allowed: 1})
	waitBudget(t, ns, "min-all", budgetStatus{expected: 3, desired: 3, healthy: 3, allowed: 0})
	waitBudget(t, ns, "max-pct", budgetStatus{expected: 3, desired: 1, healthy: 3, allowed: 2}) // 34% of 3 rounds up to 2
	waitBudget(t, ns, "everything", budgetStatus{expected: 3, desired: 1, healthy: 3, allowed: 2})
	waitBudget(t, ns, "nothing", budgetStatus{desired: 1})

	// Scaling the ReplicaSet changes what scale-based budgets expect at
	// once, before the new pods exist.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		rs, err := cluster.client.AppsV1().ReplicaSets(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		rs.Spec.Replicas = ptr[int32](6)
		_, err = cluster.client.AppsV1().ReplicaSets(ns).Update(c, rs, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	readyWebPods(t, c, ns, 6)
	waitBudget(t, ns, "min-all", budgetStatus{expected: 6, desired: 6, healthy: 6, allowed: 0})
	waitBudget(t, ns, "max-pct", budgetStatus{expected: 6, desired: 3, healthy: 6, allowed: 3})
	waitBudget(t, ns, "min-int", budgetStatus{expected: 6, desired: 2, healthy: 6, allowed: 4})

	// A spec change is observed with its generation.
	pdb, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Get(c, "min-int", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Spec.MinAvailable = ptr(intstr.FromInt32(5))
	if _, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Update(c, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := waitBudget(t, ns, "min-int", budgetStatus{expected: 6, desired: 5, healthy: 6, allowed: 1}); got.Status.ObservedGeneration < 2 {
		t.Errorf("observedGeneration %d after a spec change", got.Status.ObservedGeneration)
	}
}

func TestEvictionSpendsBudgetAndRecovers(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	if _, err := cluster.client.AppsV1().ReplicaSets(ns).Create(c, webReplicaSet(3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := readyWebPods(t, c, ns, 3)
	createBudget(t, ns, newBudget("web", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, "2", ""))
	waitBudget(t, ns, "web", budgetStatus{expected: 3, desired: 2, healthy: 3, allowed: 1})

	// A dry run changes nothing.
	if err := evict(c, ns, pods[0].Name, true); err != nil {
		t.Fatalf("dry-run eviction: %v", err)
	}
	if _, err := cluster.client.CoreV1().Pods(ns).Get(c, pods[0].Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("pod after a dry-run eviction: %v", err)
	}
	if pdb := waitBudget(t, ns, "web", budgetStatus{expected: 3, desired: 2, healthy: 3, allowed: 1}); len(pdb.Status.DisruptedPods) != 0 {
		t.Errorf("dry run recorded disrupted pods %v", pdb.Status.DisruptedPods)
	}

	if err := evict(c, ns, pods[0].Name, false); err != nil {
		t.Fatalf("first eviction: %v", err)
	}
	waitFor(t, 10*time.Second, "evicted pod gone", func() (bool, error) {
		_, err := cluster.client.CoreV1().Pods(ns).Get(c, pods[0].Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	// The budget is spent: the next eviction is refused until the
	// replacement is ready.
	expectViolation(t, evict(c, ns, pods[1].Name, false), "needs 2 healthy pods")
	if _, err := cluster.client.CoreV1().Pods(ns).Get(c, pods[1].Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("refused eviction removed the pod: %v", err)
	}
	readyWebPods(t, c, ns, 3)
	waitBudget(t, ns, "web", budgetStatus{expected: 3, desired: 2, healthy: 3, allowed: 1})
	if err := evict(c, ns, pods[1].Name, false); err != nil {
		t.Fatalf("eviction after recovery: %v", err)
	}
}

func TestEvictionRecordsDisruptedPod(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "slow"}
	for _, name := range []string{"a", "b", "c"} {
		bareTestPod(t, ns, name, labels, ptr(true))
	}
	createBudget(t, ns, newBudget("slow", &metav1.LabelSelector{MatchLabels: labels}, "1", ""))
	waitBudget(t, ns, "slow", budgetStatus{expected: 3, desired: 1, healthy: 3, allowed: 2})

	// Delete options are checked as a DELETE's are, before anything is spent.
	sideways := metav1.DeletionPropagation("Sideways")
	err := cluster.client.PolicyV1().Evictions(ns).Evict(c, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: ns}, DeleteOptions: &metav1.DeleteOptions{PropagationPolicy: &sideways}})
	if !apierrors.IsBadRequest(err) {
		t.Fatalf("eviction with propagationPolicy Sideways: %v, want 400", err)
	}
	waitBudget(t, ns, "slow", budgetStatus{expected: 3, desired: 1, healthy: 3, allowed: 2})

	// An eviction whose delete fails still spent its disruption: the pod
	// stays in status.disruptedPods and does not count as healthy.
	wrongUID := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptr[types.UID]("not-the-pod")}}
	err = cluster.client.PolicyV1().Evictions(ns).Evict(c, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: ns}, DeleteOptions: &wrongUID})
	if !apierrors.IsConflict(err) {
		t.Fatalf("eviction with a wrong uid precondition: %v, want a conflict", err)
	}
	pdb := waitBudget(t, ns, "slow", budgetStatus{expected: 3, desired: 1, healthy: 2, allowed: 1})
	if _, ok := pdb.Status.DisruptedPods["c"]; !ok || len(pdb.Status.DisruptedPods) != 1 {
		t.Errorf("disruptedPods %v, want c", pdb.Status.DisruptedPods)
	}

	// A finalizer keeps the evicted pod in place, as a slow node would; as
	// it terminates it is no longer healthy nor a pending disruption.
	patch := []byte(`{"metadata":{"finalizers":["example.test/hold"]}}`)
	if _, err := cluster.client.CoreV1().Pods(ns).Patch(c, "a", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cluster.client.CoreV1().Pods(ns).Patch(context.Background(), "a", "application/merge-patch+json",
			[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
	if err := evict(c, ns, "a", false); err != nil {
		t.Fatal(err)
	}
	p, err := cluster.client.CoreV1().Pods(ns).Get(c, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.DeletionTimestamp == nil {
		t.Error("evicted pod not terminating")
	}
	var target *corev1.PodCondition
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.DisruptionTarget {
			target = &p.Status.Conditions[i]
		}
	}
	if target == nil || target.Status != corev1.ConditionTrue || target.Reason != "EvictionByEvictionAPI" {
		t.Errorf("DisruptionTarget condition %+v", target)
	}
	waitFor(t, 15*time.Second, "terminating pod leaves disruptedPods", func() (bool, error) {
		pdb, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Get(c, "slow", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		_, ok := pdb.Status.DisruptedPods["a"]
		return !ok, fmt.Errorf("disruptedPods %v", pdb.Status.DisruptedPods)
	})
	waitBudget(t, ns, "slow", budgetStatus{expected: 3, desired: 1, healthy: 1, allowed: 0})
	expectViolation(t, evict(c, ns, "b", false), "needs 1 healthy pods and has 1 currently")
}

func TestEvictionTwoBudgetsIsAnError(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "web", "tier": "front"}
	bareTestPod(t, ns, "web", labels, ptr(true))
	createBudget(t, ns, newBudget("by-app", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, "", "1"))
	createBudget(t, ns, newBudget("by-tier", &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}, "0", ""))
	resp, data := rawRequest(t, http.MethodPost, "/api/v1/namespaces/"+ns+"/pods/web/eviction", "application/json",
		[]byte(`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web"}}`))
	st := expectCode(t, resp, data, http.StatusInternalServerError)
	if want := "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	if _, err := cluster.client.CoreV1().Pods(ns).Get(c, "web", metav1.GetOptions{}); err != nil {
		t.Errorf("pod after a refused eviction: %v", err)
	}
}

func TestEvictionOfPendingPodIgnoresBudget(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "web"}
	bareTestPod(t, ns, "pending", labels, nil)
	createBudget(t, ns, newBudget("all", &metav1.LabelSelector{MatchLabels: labels}, "100%", ""))
	if err := evict(c, ns, "pending", false); err != nil {
		t.Fatalf("evict pending pod: %v", err)
	}
	if _, err := cluster.client.CoreV1().Pods(ns).Get(c, "pending", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pending pod after eviction: %v", err)
	}
}

func TestEvictionOfUnreadyPodFollowsPolicy(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "web"}
	bareTestPod(t, ns, "ok-1", labels, ptr(true))
	bareTestPod(t, ns, "ok-2", labels, ptr(true))
	bareTestPod(t, ns, "sick-1", labels, ptr(false))
	bareTestPod(t, ns, "sick-2", labels, ptr(false))
	sel := &metav1.LabelSelector{MatchLabels: labels}
	createBudget(t, ns, newBudget("web", sel, "2", ""))
	waitBudget(t, ns, "web", budgetStatus{expected: 4, desired: 2, healthy: 2, allowed: 0})

	// IfHealthyBudget: the budget has its healthy pods, so an unready pod
	// may go without spending a disruption; a ready one may not.
	if err := evict(c, ns, "sick-1", false); err != nil {
		t.Fatalf("evict unready pod with a healthy budget: %v", err)
	}
	expectViolation(t, evict(c, ns, "ok-1", false), "needs 2 healthy pods")

	// With fewer healthy pods than wanted, unready pods are protected too...
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pdb, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		pdb.Spec.MinAvailable = ptr(intstr.FromInt32(3))
		_, err = cluster.client.PolicyV1().PodDisruptionBudgets(ns).Update(c, pdb, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitBudget(t, ns, "web", budgetStatus{expected: 3, desired: 3, healthy: 2, allowed: 0})
	expectViolation(t, evict(c, ns, "sick-2", false), "needs 3 healthy pods")

	// ...unless the policy is AlwaysAllow.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pdb, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Get(c, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		pdb.Spec.UnhealthyPodEvictionPolicy = ptr(policyv1.AlwaysAllow)
		_, err = cluster.client.PolicyV1().PodDisruptionBudgets(ns).Update(c, pdb, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitBudget(t, ns, "web", budgetStatus{expected: 3, desired: 3, healthy: 2, allowed: 0})
	if err := evict(c, ns, "sick-2", false); err != nil {
		t.Fatalf("evict unready pod under AlwaysAllow: %v", err)
	}
}

func TestEvictionWaitsForBudgetStatus(t *testing.T) {
	c, ns := ctx(t), newNamespace(t)
	labels := map[string]string{"app": "odd"}
	// A controller no budget can take the scale of: the status cannot be
	// computed, so the budget never observes its generation.
	owner, err := cluster.client.CoreV1().ConfigMaps(ns).Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := pod("odd", "", labels)
	p.Spec.SchedulerName = noScheduler
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, Controller: ptr(true)}}
	created, err := cluster.client.CoreV1().Pods(ns).Create(c, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := setRunning(c, created, true); err != nil {
		t.Fatal(err)
	}
	createBudget(t, ns, newBudget("odd", &metav1.LabelSelector{MatchLabels: labels}, "", "1"))
	waitFor(t, 15*time.Second, "SyncFailed", func() (bool, error) {
		pdb, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Get(c, "odd", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cond := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
		return cond != nil && cond.Reason == policyv1.SyncFailedReason && cond.Status == metav1.ConditionFalse &&
			strings.Contains(cond.Message, "found no controllers"), fmt.Errorf("status %+v", pdb.Status)
	})
	expectViolation(t, evict(c, ns, "odd", false), "The disruption budget odd is still being processed by the server.")
	waitFor(t, 15*time.Second, "CalculateExpectedPodCountFailed event", func() (bool, error) {
		evs, err := cluster.client.CoreV1().Events(ns).List(c, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Kind == "PodDisruptionBudget" && e.Reason == "CalculateExpectedPodCountFailed" {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events, none CalculateExpectedPodCountFailed", len(evs.Items))
	})
}
