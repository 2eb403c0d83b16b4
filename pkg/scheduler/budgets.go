package scheduler

import (
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/pkg/controller/disruption/budget"
)

// disruptionBudget is one PodDisruptionBudget as preemption reads it: the
// pods it guards, the disruptions its status still allows and the pods
// an eviction already counted (status.disruptedPods).
type disruptionBudget struct {
	selector  labels.Selector
	allowed   int32
	disrupted map[string]bool
}

// budgets are the PodDisruptionBudgets by namespace, parsed once per
// preemption attempt. A nil *budgets guards nothing.
type budgets struct {
	byNamespace map[string][]disruptionBudget
	// count is how many budgets guard some pod.
	count int
}

// newBudgets parses pdbs. Budgets with a missing, empty or invalid
// selector guard nothing, as for the eviction subresource.
func newBudgets(pdbs []*policyv1.PodDisruptionBudget) *budgets {
	b := &budgets{byNamespace: map[string][]disruptionBudget{}}
	for _, pdb := range pdbs {
		sel, ok := budget.Selector(pdb)
		if !ok || sel.Empty() {
			continue
		}
		db := disruptionBudget{selector: sel, allowed: pdb.Status.DisruptionsAllowed}
		if len(pdb.Status.DisruptedPods) > 0 {
			db.disrupted = make(map[string]bool, len(pdb.Status.DisruptedPods))
			for name := range pdb.Status.DisruptedPods {
				db.disrupted[name] = true
			}
		}
		b.byNamespace[pdb.Namespace] = append(b.byNamespace[pdb.Namespace], db)
		b.count++
	}
	return b
}

// splitByBudget divides pods (most important first) into those whose
// eviction would violate a budget and those whose eviction would not,
// keeping their order. Each pod a budget guards uses one of its allowed
// disruptions, in the order given; a pod violates the budget when none
// is left for it. Pods already in a budget's disruptedPods were counted
// by the eviction that listed them and use nothing.
func (b *budgets) splitByBudget(pods []*PodInfo) (violating, nonViolating []*PodInfo) {
	if b == nil || b.count == 0 {
		return nil, pods
	}
	left := map[string][]int32{}
	for _, pi := range pods {
		ns := pi.Pod.Namespace
		list := b.byNamespace[ns]
		if len(list) == 0 {
			nonViolating = append(nonViolating, pi)
			continue
		}
		allowed, ok := left[ns]
		if !ok {
			allowed = make([]int32, len(list))
			for i := range list {
				allowed[i] = list[i].allowed
			}
			left[ns] = allowed
		}
		violates := false
		set := labels.Set(pi.Pod.Labels)
		for i := range list {
			if list[i].disrupted[pi.Pod.Name] || !list[i].selector.Matches(set) {
				continue
			}
			allowed[i]--
			if allowed[i] < 0 {
				violates = true
			}
		}
		if violates {
			violating = append(violating, pi)
		} else {
			nonViolating = append(nonViolating, pi)
		}
	}
	return violating, nonViolating
}

// budgetLister lists the budgets preemption respects; client-go's
// policy/v1 lister is one.
type budgetLister interface {
	List(selector labels.Selector) ([]*policyv1.PodDisruptionBudget, error)
}

// listBudgets reads every budget from l (nil: none).
func listBudgets(l budgetLister) (*budgets, error) {
	if l == nil {
		return nil, nil
	}
	pdbs, err := l.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list poddisruptionbudgets: %w", err)
	}
	return newBudgets(pdbs), nil
}
