package volumebinding

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// FindBestMatch returns the volume the claim should bind to, or nil.
//
// A volume pre-bound to the claim (its claimRef names the claim) wins as
// long as it is large enough, of the claim's volume mode and not being
// deleted; its node affinity is not checked, since whoever pre-bound it
// (a user, or a provisioner following the selected node) chose it for this
// claim. Otherwise the smallest Available,
// unclaimed volume of the claim's class whose access modes include the
// claim's, whose labels match the claim's selector and whose node affinity
// allows node (when node is set) is chosen. With waitForNode (a
// WaitForFirstConsumer claim not yet scheduled) only pre-bound volumes are
// considered.
func FindBestMatch(claim *corev1.PersistentVolumeClaim, claimClass string, volumes []*corev1.PersistentVolume,
	node *corev1.Node, waitForNode bool) (*corev1.PersistentVolume, error) {
	var selector labels.Selector
	if claim.Spec.Selector != nil {
		s, err := metav1.LabelSelectorAsSelector(claim.Spec.Selector)
		if err != nil {
			return nil, fmt.Errorf("claim %s/%s selector: %w", claim.Namespace, claim.Name, err)
		}
		selector = s
	}
	requested := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	var best *corev1.PersistentVolume
	for _, pv := range volumes {
		size := pv.Spec.Capacity[corev1.ResourceStorage]
		if size.Cmp(requested) < 0 || volumeModeOf(pv.Spec.VolumeMode) != volumeModeOf(claim.Spec.VolumeMode) ||
			pv.DeletionTimestamp != nil {
			continue
		}
		if boundToClaim(pv, claim) {
			return pv, nil
		}
		if waitForNode {
			continue
		}
		fitsNode := node == nil || nodeAllows(pv, node)
		if pv.Status.Phase != corev1.VolumeAvailable || pv.Spec.ClaimRef != nil ||
			(selector != nil && !selector.Matches(labels.Set(pv.Labels))) ||
			VolumeClass(pv) != claimClass || !fitsNode || !hasModes(pv.Spec.AccessModes, claim.Spec.AccessModes) {
			continue
		}
		if best == nil || size.Cmp(best.Spec.Capacity[corev1.ResourceStorage]) < 0 ||
			(size.Cmp(best.Spec.Capacity[corev1.ResourceStorage]) == 0 && pv.Name < best.Name) {
			best = pv
		}
	}
	return best, nil
}

// CheckSatisfies tells why a volume the claim names in spec.volumeName
// cannot serve it, or nil when it can.
func CheckSatisfies(claim *corev1.PersistentVolumeClaim, claimClass string, pv *corev1.PersistentVolume) error {
	requested := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	size := pv.Spec.Capacity[corev1.ResourceStorage]
	switch {
	case size.Cmp(requested) < 0:
		return fmt.Errorf("requested PV is too small")
	case VolumeClass(pv) != claimClass:
		return fmt.Errorf("storageClassName does not match")
	case volumeModeOf(pv.Spec.VolumeMode) != volumeModeOf(claim.Spec.VolumeMode):
		return fmt.Errorf("incompatible volumeMode")
	case !hasModes(pv.Spec.AccessModes, claim.Spec.AccessModes):
		return fmt.Errorf("incompatible accessMode")
	}
	return nil
}

// boundToClaim reports whether the volume's claimRef names the claim (an
// empty claimRef UID names any claim of that namespace and name).
func boundToClaim(pv *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) bool {
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.Name != claim.Name || ref.Namespace != claim.Namespace {
		return false
	}
	return ref.UID == "" || ref.UID == claim.UID
}

// nodeAllows reports whether the volume's required node affinity admits
// the node; a volume without one is usable everywhere.
func nodeAllows(pv *corev1.PersistentVolume, node *corev1.Node) bool {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return true
	}
	ok, err := corev1helpers.MatchNodeSelectorTerms(node, pv.Spec.NodeAffinity.Required)
	return err == nil && ok
}

// hasModes reports whether every wanted access mode is offered.
func hasModes(offered, wanted []corev1.PersistentVolumeAccessMode) bool {
	for _, w := range wanted {
		found := false
		for _, o := range offered {
			if o == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func volumeModeOf(m *corev1.PersistentVolumeMode) corev1.PersistentVolumeMode {
	if m == nil {
		return corev1.PersistentVolumeFilesystem
	}
	return *m
}
