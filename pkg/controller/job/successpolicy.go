package job

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
)

// matchSuccessPolicy evaluates the rules of an Indexed Job's
// successPolicy, in order, against its succeeded indexes and returns the
// SuccessCriteriaMet message of the first rule met.
//
// A rule with succeededIndexes needs all of them succeeded, or, with
// succeededCount too, at least that many of them; a rule with only
// succeededCount needs that many succeeded indexes of any kind.
func matchSuccessPolicy(policy *batchv1.SuccessPolicy, completions int, succeeded indexSet) (string, bool) {
	if policy == nil || len(succeeded) == 0 {
		return "", false
	}
	for i, rule := range policy.Rules {
		if ruleMet(rule, completions, succeeded) {
			return fmt.Sprintf("Matched rules at index %d", i), true
		}
	}
	return "", false
}

func ruleMet(rule batchv1.SuccessPolicyRule, completions int, succeeded indexSet) bool {
	if rule.SucceededIndexes == nil {
		return rule.SucceededCount != nil && len(succeeded) >= int(*rule.SucceededCount)
	}
	required := parseIndexes(*rule.SucceededIndexes, completions)
	if len(required) == 0 {
		return false
	}
	have := 0
	for ix := range required {
		if succeeded[ix] {
			have++
		}
	}
	if rule.SucceededCount != nil {
		return have >= int(*rule.SucceededCount)
	}
	return have == len(required)
}
