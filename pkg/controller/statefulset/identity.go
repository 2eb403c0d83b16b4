package statefulset

import (
	"maps"
	"regexp"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/controller/history"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

const (
	// PodNameLabel carries a pod's own name, so a Service can select one
	// member of the set.
	PodNameLabel = appsv1.StatefulSetPodNameLabel
	// PodIndexLabel carries a pod's ordinal.
	PodIndexLabel = appsv1.PodIndexLabel
)

// namePattern splits <parent>-<ordinal>.
var namePattern = regexp.MustCompile(`^(.*)-([0-9]+)$`)

// Ordinal returns the ordinal of a pod of set, or -1 when the name does
// not have the form <set>-<ordinal>.
func Ordinal(set *appsv1.StatefulSet, pod *corev1.Pod) int {
	m := namePattern.FindStringSubmatch(pod.Name)
	if m == nil || m[1] != set.Name {
		return -1
	}
	n, err := strconv.Atoi(m[2])
	if err != nil || strconv.Itoa(n) != m[2] {
		return -1
	}
	return n
}

// PodName is the name of the pod with the given ordinal.
func PodName(set *appsv1.StatefulSet, ordinal int) string {
	return set.Name + "-" + strconv.Itoa(ordinal)
}

// ClaimName is the name of the claim of template claim for the pod with
// the given ordinal.
func ClaimName(claim string, set *appsv1.StatefulSet, ordinal int) string {
	return claim + "-" + PodName(set, ordinal)
}

// startOrdinal is the first ordinal of the set.
func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func desiredReplicas(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

// inRange reports whether ordinal belongs to the set's desired pods.
func inRange(set *appsv1.StatefulSet, ordinal int) bool {
	start := startOrdinal(set)
	return ordinal >= start && ordinal < start+desiredReplicas(set)
}

// partition is the replica index (ordinal minus start) below which a
// rolling update leaves pods at the current revision.
func partition(set *appsv1.StatefulSet) int {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if set.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType || ru == nil || ru.Partition == nil {
		return 0
	}
	return int(*ru.Partition)
}

// UseCurrentRevision reports whether a missing pod with this ordinal is
// recreated from the current revision rather than the update revision:
// under RollingUpdate, ordinals below the partition keep the current one.
func UseCurrentRevision(set *appsv1.StatefulSet, ordinal int) bool {
	return set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		ordinal-startOrdinal(set) < partition(set)
}

// newPod builds the pod with the given ordinal from template (the
// template of the revision it belongs to) labelled with revision.
func newPod(set *appsv1.StatefulSet, template *corev1.PodTemplateSpec, revision string, ordinal int) *corev1.Pod {
	pod := replicaset.PodFromTemplate(template, set, kind)
	pod.GenerateName = ""
	pod.Name = PodName(set, ordinal)
	pod.Labels = maps.Clone(pod.Labels)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[PodNameLabel] = pod.Name
	pod.Labels[PodIndexLabel] = strconv.Itoa(ordinal)
	pod.Labels[history.HashLabel] = revision
	pod.Spec.Hostname = pod.Name
	if set.Spec.ServiceName != "" {
		pod.Spec.Subdomain = set.Spec.ServiceName
	}
	pod.Spec.Volumes = withClaimVolumes(set, pod.Spec.Volumes, ordinal)
	return pod
}

// withClaimVolumes replaces or adds a volume per claim template, naming
// the pod's own claim.
func withClaimVolumes(set *appsv1.StatefulSet, volumes []corev1.Volume, ordinal int) []corev1.Volume {
	out := slices.DeleteFunc(slices.Clone(volumes), func(v corev1.Volume) bool {
		return slices.ContainsFunc(set.Spec.VolumeClaimTemplates, func(c corev1.PersistentVolumeClaim) bool { return c.Name == v.Name })
	})
	for _, c := range set.Spec.VolumeClaimTemplates {
		out = append(out, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: ClaimName(c.Name, set, ordinal)},
		}})
	}
	return out
}

// newClaims builds the claims of the pod with the given ordinal, labelled
// with the set's selector labels.
func newClaims(set *appsv1.StatefulSet, ordinal int) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for i := range set.Spec.VolumeClaimTemplates {
		t := set.Spec.VolumeClaimTemplates[i].DeepCopy()
		claim := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{
				Name:        ClaimName(t.Name, set, ordinal),
				Namespace:   set.Namespace,
				Labels:      maps.Clone(t.Labels),
				Annotations: t.Annotations,
			},
			Spec: t.Spec,
		}
		if set.Spec.Selector != nil && len(set.Spec.Selector.MatchLabels) > 0 {
			if claim.Labels == nil {
				claim.Labels = map[string]string{}
			}
			maps.Copy(claim.Labels, set.Spec.Selector.MatchLabels)
		}
		out = append(out, claim)
	}
	return out
}

// identityMatches reports whether a pod carries its identity: name
// labels, hostname and subdomain.
func identityMatches(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) bool {
	return pod.Labels[PodNameLabel] == pod.Name && pod.Labels[PodIndexLabel] == strconv.Itoa(ordinal) &&
		pod.Spec.Hostname == pod.Name && (set.Spec.ServiceName == "" || pod.Spec.Subdomain == set.Spec.ServiceName)
}

// revisionOf is the revision a pod was made from.
func revisionOf(pod *corev1.Pod) string { return pod.Labels[history.HashLabel] }
