package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Two full nodes each run one low-priority pod; the pod on the first node
// (which preemption would otherwise pick: the plans tie and nodes are
// tried in name order) is protected by a budget that allows no
// disruption. A high-priority pod must preempt the unprotected pod.
func TestSchedulerPreemptionRespectsDisruptionBudget(t *testing.T) {
	ns := newNamespace(t)
	guardedNode, plainNode := ns+"-a", ns+"-b"
	schedNode(t, ns, guardedNode, "1")
	schedNode(t, ns, plainNode, "1")

	guarded := map[string]string{"app": "guarded"}
	createBudget(t, ns, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "keep"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: guarded}},
	})
	schedPod(t, ns, "guarded", "1", func(p *corev1.Pod) {
		p.Labels = guarded
		p.Spec.NodeName = guardedNode
	})
	// The plain pod terminates slowly, so the test can look at it after
	// the scheduler deleted it.
	schedPod(t, ns, "plain", "1", func(p *corev1.Pod) {
		p.Spec.NodeName = plainNode
		p.Spec.TerminationGracePeriodSeconds = ptr(int64(30))
	})
	waitFor(t, 15*time.Second, "budget keep computed", func() (bool, error) {
		pdb, err := cluster.client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx(t), "keep", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := pdb.Status
		return s.ObservedGeneration == pdb.Generation && s.ExpectedPods == 1 && s.DisruptionsAllowed == 0,
			fmt.Errorf("status %+v, generation %d", s, pdb.Generation)
	})

	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: ns + "-high"}, Value: 1000}
	if _, err := cluster.client.SchedulingV1().PriorityClasses().Create(ctx(t), pc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.client.SchedulingV1().PriorityClasses().Delete(context.Background(), pc.Name, metav1.DeleteOptions{})
	})
	schedPod(t, ns, "urgent", "1", func(p *corev1.Pod) { p.Spec.PriorityClassName = pc.Name })

	pods := cluster.client.CoreV1().Pods(ns)
	waitFor(t, 20*time.Second, "plain preempted", func() (bool, error) {
		p, err := pods.Get(ctx(t), "plain", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		var target *corev1.PodCondition
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.DisruptionTarget {
				target = &p.Status.Conditions[i]
			}
		}
		ok := p.DeletionTimestamp != nil && target != nil && target.Status == corev1.ConditionTrue &&
			target.Reason == corev1.PodReasonPreemptionByScheduler
		return ok, fmt.Errorf("deletionTimestamp %v, DisruptionTarget %+v", p.DeletionTimestamp, target)
	})
	waitEvent(t, ns, "plain", "Preempted", "on node "+plainNode)
	waitFor(t, 20*time.Second, "urgent nominated", func() (bool, error) {
		p, err := pods.Get(ctx(t), "urgent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.Status.NominatedNodeName == plainNode, fmt.Errorf("nominatedNodeName %q", p.Status.NominatedNodeName)
	})

	// Play the node agent: the victim's containers are gone.
	if err := pods.Delete(ctx(t), "plain", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
		t.Fatal(err)
	}
	waitBound(t, ns, "urgent", plainNode)
	p, err := pods.Get(ctx(t), "guarded", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("guarded pod: %v", err)
	}
	if p.DeletionTimestamp != nil || p.Spec.NodeName != guardedNode {
		t.Fatalf("guarded pod disturbed: deletionTimestamp %v, node %q", p.DeletionTimestamp, p.Spec.NodeName)
	}
}
