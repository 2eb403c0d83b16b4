package localpath

import (
	"errors"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/pkg/controller/volumebinding"
)

const (
	// Provisioner is the provisioner name of local-path classes.
	Provisioner = "tug.dev/local-path"
	// ClassName is the StorageClass the controller keeps.
	ClassName = "local-path"
	// DefaultBasePath is where volumes live when the class has no "path".
	DefaultBasePath = "/var/lib/tug/storage"
	// ParamPath is the class parameter naming the base directory.
	ParamPath = "path"
)

// ErrBadClaim marks claims or classes local-path cannot provision for.
var ErrBadClaim = errors.New("cannot provision")

// VolumeName is the name of the volume provisioned for a claim.
func VolumeName(pvc *corev1.PersistentVolumeClaim) string { return "pvc-" + string(pvc.UID) }

// VolumePath is the directory of a volume under a base directory.
func VolumePath(base, volume string) string { return path.Join(base, volume) }

// BasePath returns the class's base directory: the "path" parameter or
// DefaultBasePath. It must be absolute, clean and not the root.
func BasePath(sc *storagev1.StorageClass) (string, error) {
	base := sc.Parameters[ParamPath]
	if base == "" {
		return DefaultBasePath, nil
	}
	if !strings.HasPrefix(base, "/") || path.Clean(base) != base || base == "/" {
		return "", fmt.Errorf("%w: storage class %q parameter %s=%q must be a clean absolute path other than /",
			ErrBadClaim, sc.Name, ParamPath, base)
	}
	return base, nil
}

// newVolume builds the volume for a claim on node, pre-bound to the claim.
func newVolume(pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass, node string) (*corev1.PersistentVolume, error) {
	if pvc.Spec.VolumeMode != nil && *pvc.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return nil, fmt.Errorf("%w: local-path volumes support only volumeMode Filesystem", ErrBadClaim)
	}
	if pvc.Spec.DataSource != nil || pvc.Spec.DataSourceRef != nil {
		return nil, fmt.Errorf("%w: local-path volumes cannot be populated from a data source", ErrBadClaim)
	}
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil, fmt.Errorf("%w: claim requests no storage", ErrBadClaim)
	}
	base, err := BasePath(sc)
	if err != nil {
		return nil, err
	}
	name := VolumeName(pvc)
	policy := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		policy = *sc.ReclaimPolicy
	}
	mode := corev1.PersistentVolumeFilesystem
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Annotations: map[string]string{
				volumebinding.AnnDynamicallyProvisioned: Provisioner,
				volumebinding.AnnBoundByController:      "yes",
			},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes: append([]corev1.PersistentVolumeAccessMode(nil), pvc.Spec.AccessModes...),
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: VolumePath(base, name), Type: &dirOrCreate,
			}},
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
			},
			PersistentVolumeReclaimPolicy: policy,
			StorageClassName:              sc.Name,
			MountOptions:                  append([]string(nil), sc.MountOptions...),
			VolumeMode:                    &mode,
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
				}}}},
			}},
		},
	}, nil
}

// VolumeNode returns the node a local-path volume is pinned to: the single
// value of its required kubernetes.io/hostname In affinity, or "".
func VolumeNode(pv *corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	terms := pv.Spec.NodeAffinity.Required.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 1 || len(terms[0].MatchFields) != 0 {
		return ""
	}
	req := terms[0].MatchExpressions[0]
	if req.Key != corev1.LabelHostname || req.Operator != corev1.NodeSelectorOpIn || len(req.Values) != 1 {
		return ""
	}
	return req.Values[0]
}
