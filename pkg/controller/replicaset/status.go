package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// calculateStatus derives a ReplicaSet's status from the pods it owns and
// the outcome of the last create/delete round.
func calculateStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	s := appsv1.ReplicaSetStatus{
		Replicas:           int32(len(pods)),
		ObservedGeneration: rs.Status.ObservedGeneration,
		Conditions:         append([]appsv1.ReplicaSetCondition(nil), rs.Status.Conditions...),
	}
	template := labels.SelectorFromSet(rs.Spec.Template.Labels)
	for _, p := range pods {
		if template.Matches(labels.Set(p.Labels)) {
			s.FullyLabeledReplicas++
		}
		if IsPodReady(p) {
			s.ReadyReplicas++
			if IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				s.AvailableReplicas++
			}
		}
	}
	hasFailure := replicaFailure(s.Conditions) >= 0
	switch {
	case manageErr != nil && !hasFailure:
		reason := "FailedCreate"
		if len(pods) > int(*rs.Spec.Replicas) {
			reason = "FailedDelete"
		}
		s.Conditions = append(s.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
		})
	case manageErr == nil && hasFailure:
		i := replicaFailure(s.Conditions)
		s.Conditions = append(s.Conditions[:i], s.Conditions[i+1:]...)
	}
	if len(s.Conditions) == 0 {
		s.Conditions = nil
	}
	return s
}

func replicaFailure(conds []appsv1.ReplicaSetCondition) int {
	for i, c := range conds {
		if c.Type == appsv1.ReplicaSetReplicaFailure {
			return i
		}
	}
	return -1
}

func statusEqual(a, b appsv1.ReplicaSetStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}
