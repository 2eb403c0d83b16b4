package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// verdict is what spec.podFailurePolicy decides about one failed pod.
type verdict struct {
	// action of the first matching rule; empty when no rule matched or
	// the policy does not apply, which means the default (Count).
	action batchv1.PodFailurePolicyAction
	// message explains a FailJob verdict; it becomes the message of the
	// Job's FailureTarget and Failed conditions.
	message string
}

// counts reports whether the failure counts against backoffLimit and
// backoffLimitPerIndex: every failure except an ignored one.
func (v verdict) counts() bool { return v.action != batchv1.PodFailurePolicyActionIgnore }

// judge evaluates job's podFailurePolicy against pod. The policy only
// applies to terminal (Failed) pods with restartPolicy Never; rules are
// tried in order and the first one matching decides. A rule with an
// action this controller does not know is skipped.
func judge(job *batchv1.Job, pod *corev1.Pod) verdict {
	policy := job.Spec.PodFailurePolicy
	if policy == nil || pod.Status.Phase != corev1.PodFailed || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		return verdict{}
	}
	for i, rule := range policy.Rules {
		if !knownAction(rule.Action) {
			continue
		}
		var why string
		switch {
		case rule.OnExitCodes != nil:
			c := matchExitCodes(&pod.Status, rule.OnExitCodes)
			if c == nil {
				continue
			}
			why = fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d", c.Name, pod.Namespace, pod.Name, c.State.Terminated.ExitCode)
		case len(rule.OnPodConditions) > 0:
			c := matchPodConditions(&pod.Status, rule.OnPodConditions)
			if c == nil {
				continue
			}
			why = fmt.Sprintf("Pod %s/%s has condition %s", pod.Namespace, pod.Name, c.Type)
		default:
			continue
		}
		v := verdict{action: rule.Action}
		if rule.Action == batchv1.PodFailurePolicyActionFailJob {
			v.message = fmt.Sprintf("%s matching %s rule at index %d", why, rule.Action, i)
		}
		return v
	}
	return verdict{}
}

func knownAction(a batchv1.PodFailurePolicyAction) bool {
	switch a {
	case batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionFailIndex,
		batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount:
		return true
	}
	return false
}

// matchExitCodes returns the first terminated container (regular
// containers before init containers) whose non-zero exit code satisfies
// req, or nil. A container that exited 0 never matches.
func matchExitCodes(s *corev1.PodStatus, req *batchv1.PodFailurePolicyOnExitCodesRequirement) *corev1.ContainerStatus {
	for _, statuses := range [][]corev1.ContainerStatus{s.ContainerStatuses, s.InitContainerStatuses} {
		for i := range statuses {
			c := &statuses[i]
			term := c.State.Terminated
			if term == nil || term.ExitCode == 0 || (req.ContainerName != nil && *req.ContainerName != c.Name) {
				continue
			}
			listed := slices.Contains(req.Values, term.ExitCode)
			switch req.Operator {
			case batchv1.PodFailurePolicyOnExitCodesOpIn:
				if listed {
					return c
				}
			case batchv1.PodFailurePolicyOnExitCodesOpNotIn:
				if !listed {
					return c
				}
			}
		}
	}
	return nil
}

// matchPodConditions returns the first pod condition equal in type and
// status to one of the patterns, or nil.
func matchPodConditions(s *corev1.PodStatus, patterns []batchv1.PodFailurePolicyOnPodConditionsPattern) *corev1.PodCondition {
	for i := range s.Conditions {
		c := &s.Conditions[i]
		for _, p := range patterns {
			status := p.Status
			if status == "" {
				status = corev1.ConditionTrue
			}
			if c.Type == p.Type && c.Status == status {
				return c
			}
		}
	}
	return nil
}

// failJobMessage returns the message of the first failed pod whose
// verdict is FailJob.
func failJobMessage(job *batchv1.Job, pods []*corev1.Pod) (string, bool) {
	if job.Spec.PodFailurePolicy == nil {
		return "", false
	}
	for _, p := range pods {
		if v := judge(job, p); v.action == batchv1.PodFailurePolicyActionFailJob {
			return v.message, true
		}
	}
	return "", false
}
