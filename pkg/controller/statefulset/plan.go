package statefulset

import (
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// stepKind is what one step does to one ordinal.
type stepKind int

const (
	// stepCreate creates the missing pod (and its claims).
	stepCreate stepKind = iota
	// stepFixIdentity relabels a pod whose identity labels drifted.
	stepFixIdentity
	// stepRecreate deletes a failed or succeeded pod so it comes back.
	stepRecreate
	// stepScaleDown deletes a pod beyond the desired ordinals.
	stepScaleDown
	// stepUpdate deletes a pod of an old revision so it comes back updated.
	stepUpdate
)

func (k stepKind) String() string {
	return [...]string{"create", "fix-identity", "recreate", "scale-down", "update"}[k]
}

// step is one action of a sync.
type step struct {
	kind    stepKind
	ordinal int
	pod     *corev1.Pod // the existing pod, for all kinds but create
	// current: create the pod from the current revision, not the update
	// revision.
	current bool
}

// podsByOrdinal splits the set's pods into the desired ordinals (index =
// ordinal - start, nil where missing) and the condemned ones beyond them,
// highest ordinal first. Pods without a valid ordinal are ignored.
func podsByOrdinal(set *appsv1.StatefulSet, pods []*corev1.Pod) (replicas, condemned []*corev1.Pod) {
	start, n := startOrdinal(set), desiredReplicas(set)
	replicas = make([]*corev1.Pod, n)
	for _, p := range pods {
		ord := Ordinal(set, p)
		switch {
		case ord < 0:
		case inRange(set, ord):
			replicas[ord-start] = p
		default:
			condemned = append(condemned, p)
		}
	}
	slices.SortFunc(condemned, func(a, b *corev1.Pod) int { return Ordinal(set, b) - Ordinal(set, a) })
	return replicas, condemned
}

func isTerminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }

func isFinished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

func runningAndReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && replicaset.IsPodReady(p)
}

func healthy(p *corev1.Pod) bool { return runningAndReady(p) && !isTerminating(p) }

// plan decides the steps of one sync. With OrderedReady it stops at the
// first pod it must wait for (or after the first create or delete), so pods
// start in ordinal order, each after its predecessors are Running, Ready
// and available, and leave in reverse order one at a time. With Parallel
// it creates and deletes everything at once. A rolling update then
// deletes, from the highest ordinal down to the partition, the first pod
// not at updateRevision, but only while the pods above it are healthy;
// with rollingUpdate.maxUnavailable it deletes as many as keep at most
// that many pods unavailable (see updateBatch).
func plan(set *appsv1.StatefulSet, pods []*corev1.Pod, updateRevision string, now time.Time) []step {
	monotonic := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	replicas, condemned := podsByOrdinal(set, pods)
	start := startOrdinal(set)
	var steps []step
	for i, p := range replicas {
		ord := start + i
		switch {
		case p == nil:
			steps = append(steps, step{kind: stepCreate, ordinal: ord, current: UseCurrentRevision(set, ord)})
			if monotonic {
				return steps
			}
			continue
		case isTerminating(p):
			if monotonic {
				return steps
			}
			continue
		case isFinished(p):
			steps = append(steps, step{kind: stepRecreate, ordinal: ord, pod: p})
			if monotonic {
				return steps
			}
			continue
		}
		if !identityMatches(set, p, ord) {
			steps = append(steps, step{kind: stepFixIdentity, ordinal: ord, pod: p})
		}
		if monotonic && !replicaset.IsPodAvailable(p, set.Spec.MinReadySeconds, now) {
			return steps
		}
		if monotonic && !runningAndReady(p) {
			return steps
		}
	}
	for _, p := range condemned {
		if isTerminating(p) {
			if monotonic {
				return steps
			}
			continue
		}
		steps = append(steps, step{kind: stepScaleDown, ordinal: Ordinal(set, p), pod: p})
		if monotonic {
			return steps
		}
	}
	if set.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return steps
	}
	if limit, ok := maxUnavailable(set); ok {
		return append(steps, updateBatch(replicas, start, partition(set), limit, updateRevision)...)
	}
	for i := len(replicas) - 1; i >= max(partition(set), 0); i-- {
		p := replicas[i]
		if p == nil {
			return steps
		}
		if revisionOf(p) != updateRevision && !isTerminating(p) {
			return append(steps, step{kind: stepUpdate, ordinal: start + i, pod: p})
		}
		if !healthy(p) {
			return steps
		}
	}
	return steps
}

// maxUnavailable is rollingUpdate.maxUnavailable as a pod count (a
// percentage of replicas rounded up, at least one); ok is false when it is
// not set and updates go one pod at a time.
func maxUnavailable(set *appsv1.StatefulSet) (limit int, ok bool) {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.MaxUnavailable == nil {
		return 0, false
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, int(ptr.Deref(set.Spec.Replicas, 1)), true)
	if err != nil {
		return 1, true
	}
	return max(n, 1), true
}

// updateBatch is a rolling update step with maxUnavailable, as Kubernetes
// does it: the replicas that are not healthy count against limit, and the
// rest of it goes to deleting old-revision pods from the highest ordinal
// down to the partition, each deletion spending one.
func updateBatch(replicas []*corev1.Pod, start, partition, limit int, updateRevision string) []step {
	unavailable := 0
	for _, p := range replicas {
		if p == nil || !healthy(p) {
			unavailable++
		}
	}
	var steps []step
	for i := len(replicas) - 1; i >= max(partition, 0) && unavailable < limit; i-- {
		p := replicas[i]
		if p != nil && revisionOf(p) != updateRevision && !isTerminating(p) {
			steps = append(steps, step{kind: stepUpdate, ordinal: start + i, pod: p})
			unavailable++
		}
	}
	return steps
}
