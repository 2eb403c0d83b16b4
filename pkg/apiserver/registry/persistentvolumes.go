package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func persistentVolumesResource() *Resource {
	return &Resource{
		Version: "v1", Name: "persistentvolumes", Singular: "persistentvolume", Kind: "PersistentVolume",
		ShortNames:   []string{"pv"},
		New:          func() runtime.Object { return &corev1.PersistentVolume{} },
		NewList:      func() runtime.Object { return &corev1.PersistentVolumeList{} },
		Status:       true,
		NoGeneration: true,

		Default:                typedMutate(defaultPersistentVolume),
		PrepareForCreate:       typedMutate(preparePersistentVolumeForCreate),
		PrepareForStatusUpdate: typedMutateUpdate(preparePersistentVolumeStatusUpdate),
		Validate:               typedValidate(validatePersistentVolume),
		ValidateUpdate:         typedValidateUpdate(validatePersistentVolumeUpdate),
		ValidateStatusUpdate:   typedValidateUpdate(func(pv, _ *corev1.PersistentVolume) field.ErrorList { return validatePVPhase(pv) }),
		Table:                  persistentVolumeTable(),
	}
}

func defaultPersistentVolume(pv *corev1.PersistentVolume) {
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		mode := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &mode
	}
	if hp := pv.Spec.HostPath; hp != nil && hp.Type == nil {
		unset := corev1.HostPathUnset
		hp.Type = &unset
	}
	defaultResourceList(pv.Spec.Capacity)
}

// pvProtectionFinalizer keeps a deleted volume while it is bound; the
// pv-protection controller (pkg/controller/pvprotection) removes it.
const pvProtectionFinalizer = "kubernetes.io/pv-protection"

func preparePersistentVolumeForCreate(pv *corev1.PersistentVolume) {
	now := metav1.Now()
	pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
	pv.Finalizers = withFinalizer(pv.Finalizers, pvProtectionFinalizer)
}

// preparePersistentVolumeStatusUpdate records when the phase changed.
func preparePersistentVolumeStatusUpdate(pv, old *corev1.PersistentVolume) {
	if pv.Status.Phase != old.Status.Phase {
		now := metav1.Now()
		pv.Status.LastPhaseTransitionTime = &now
	}
}

var pvAccessModes = []corev1.PersistentVolumeAccessMode{
	corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOncePod,
}

func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "at least 1 access mode is required")}
	}
	var errs field.ErrorList
	for _, m := range modes {
		if !containsMode(pvAccessModes, m) {
			errs = append(errs, field.NotSupported(p, m, pvAccessModes))
		}
	}
	if containsMode(modes, corev1.ReadWriteOncePod) && len(modes) > 1 {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func containsMode(modes []corev1.PersistentVolumeAccessMode, m corev1.PersistentVolumeAccessMode) bool {
	for _, x := range modes {
		if x == m {
			return true
		}
	}
	return false
}

// pvSourceKinds lists the JSON names of the sources set on a volume.
func pvSourceKinds(src *corev1.PersistentVolumeSource) []string {
	var kinds []string
	add := func(set bool, name string) {
		if set {
			kinds = append(kinds, name)
		}
	}
	add(src.GCEPersistentDisk != nil, "gcePersistentDisk")
	add(src.AWSElasticBlockStore != nil, "awsElasticBlockStore")
	add(src.HostPath != nil, "hostPath")
	add(src.Glusterfs != nil, "glusterfs")
	add(src.NFS != nil, "nfs")
	add(src.RBD != nil, "rbd")
	add(src.ISCSI != nil, "iscsi")
	add(src.Cinder != nil, "cinder")
	add(src.CephFS != nil, "cephfs")
	add(src.FC != nil, "fc")
	add(src.Flocker != nil, "flocker")
	add(src.FlexVolume != nil, "flexVolume")
	add(src.AzureFile != nil, "azureFile")
	add(src.VsphereVolume != nil, "vsphereVolume")
	add(src.Quobyte != nil, "quobyte")
	add(src.AzureDisk != nil, "azureDisk")
	add(src.PhotonPersistentDisk != nil, "photonPersistentDisk")
	add(src.PortworxVolume != nil, "portworxVolume")
	add(src.ScaleIO != nil, "scaleIO")
	add(src.Local != nil, "local")
	add(src.StorageOS != nil, "storageos")
	add(src.CSI != nil, "csi")
	return kinds
}

func validatePersistentVolume(pv *corev1.PersistentVolume) field.ErrorList {
	specPath := field.NewPath("spec")
	spec := &pv.Spec
	errs := validateAccessModes(spec.AccessModes, specPath.Child("accessModes"))
	capPath := specPath.Child("capacity")
	if len(spec.Capacity) == 0 {
		errs = append(errs, field.Required(capPath, ""))
	}
	for _, name := range sortedResourceNames(spec.Capacity) {
		if name != corev1.ResourceStorage {
			errs = append(errs, field.NotSupported(capPath.Key(string(name)), name, []corev1.ResourceName{corev1.ResourceStorage}))
			continue
		}
		if q := spec.Capacity[name]; q.Sign() <= 0 {
			errs = append(errs, field.Invalid(capPath.Key(string(name)), q.String(), "must be greater than zero"))
		}
	}
	errs = append(errs, validateEnum(spec.PersistentVolumeReclaimPolicy, specPath.Child("persistentVolumeReclaimPolicy"),
		corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain)...)
	if spec.VolumeMode != nil {
		errs = append(errs, validateEnum(*spec.VolumeMode, specPath.Child("volumeMode"),
			corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)...)
	}
	errs = append(errs, validateOptionalSubdomain(spec.StorageClassName, specPath.Child("storageClassName"))...)

	kinds := pvSourceKinds(&spec.PersistentVolumeSource)
	switch {
	case len(kinds) == 0:
		errs = append(errs, field.Required(specPath, "must specify a volume type"))
	case len(kinds) > 1:
		errs = append(errs, field.Forbidden(specPath.Child(kinds[1]), "may not specify more than 1 volume type"))
	}
	if hp := spec.HostPath; hp != nil {
		if hp.Path == "" {
			errs = append(errs, field.Required(specPath.Child("hostPath", "path"), ""))
		} else if !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(specPath.Child("hostPath", "path"), hp.Path, "must be an absolute path"))
		}
	}
	if nfs := spec.NFS; nfs != nil {
		if nfs.Server == "" {
			errs = append(errs, field.Required(specPath.Child("nfs", "server"), ""))
		}
		if nfs.Path == "" {
			errs = append(errs, field.Required(specPath.Child("nfs", "path"), ""))
		}
	}
	if local := spec.Local; local != nil {
		if local.Path == "" {
			errs = append(errs, field.Required(specPath.Child("local", "path"), ""))
		}
		if spec.NodeAffinity == nil || spec.NodeAffinity.Required == nil {
			errs = append(errs, field.Required(specPath.Child("nodeAffinity"), "Local volume requires node affinity"))
		}
	}
	if csi := spec.CSI; csi != nil {
		if csi.Driver == "" {
			errs = append(errs, field.Required(specPath.Child("csi", "driver"), ""))
		}
		if csi.VolumeHandle == "" {
			errs = append(errs, field.Required(specPath.Child("csi", "volumeHandle"), ""))
		}
	}
	if spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle && spec.HostPath == nil && spec.NFS == nil {
		errs = append(errs, field.Forbidden(specPath.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a volume that is not hostPath or nfs"))
	}
	return errs
}

func validatePersistentVolumeUpdate(pv, old *corev1.PersistentVolume) field.ErrorList {
	errs := validatePersistentVolume(pv)
	specPath := field.NewPath("spec")
	if !apiequality.Semantic.DeepEqual(pv.Spec.PersistentVolumeSource, old.Spec.PersistentVolumeSource) {
		errs = append(errs, field.Forbidden(specPath.Child("persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"))
	}
	errs = append(errs, validateImmutable(pv.Spec.VolumeMode, old.Spec.VolumeMode, specPath.Child("volumeMode"))...)
	if old.Spec.NodeAffinity != nil {
		errs = append(errs, validateImmutable(pv.Spec.NodeAffinity, old.Spec.NodeAffinity, specPath.Child("nodeAffinity"))...)
	}
	return errs
}

func validatePVPhase(pv *corev1.PersistentVolume) field.ErrorList {
	if pv.Status.Phase == "" {
		return nil
	}
	return validateEnum(pv.Status.Phase, field.NewPath("status", "phase"),
		corev1.VolumeAvailable, corev1.VolumeBound, corev1.VolumeFailed, corev1.VolumePending, corev1.VolumeReleased)
}

func persistentVolumeTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity.", 0),
			tableColumn("Access Modes", "string", "accessModes contains all ways the volume can be mounted.", 0),
			tableColumn("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.", 0),
			tableColumn("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0),
			tableColumn("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.", 0),
			tableColumn("StorageClass", "string", "storageClassName is the name of StorageClass to which this persistent volume belongs.", 0),
			tableColumn("VolumeAttributesClass", "string", "volumeAttributesClassName is the name of the VolumeAttributesClass to which this persistent volume belongs.", 0),
			tableColumn("Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.", 0),
			ageColumn(),
			tableColumn("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", 1),
		},
		Row: tableRow(persistentVolumeRow),
	}
}

func persistentVolumeRow(pv *corev1.PersistentVolume) []any {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity := ""
	if q, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok {
		capacity = q.String()
	}
	return []any{
		pv.Name,
		capacity,
		formatAccessModes(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase,
		claim,
		storageClassOf(pv.Spec.StorageClassName, pv.Annotations),
		attributesClass(pv.Spec.VolumeAttributesClassName),
		pv.Status.Reason,
		formatAge(pv.CreationTimestamp),
		volumeMode(pv.Spec.VolumeMode),
	}
}

// formatAccessModes renders access modes as kubectl does: "RWO,ROX".
func formatAccessModes(modes []corev1.PersistentVolumeAccessMode) string {
	short := map[corev1.PersistentVolumeAccessMode]string{
		corev1.ReadWriteOnce: "RWO", corev1.ReadOnlyMany: "ROX", corev1.ReadWriteMany: "RWX", corev1.ReadWriteOncePod: "RWOP",
	}
	var out []string
	for _, m := range []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod} {
		if containsMode(modes, m) {
			out = append(out, short[m])
		}
	}
	return strings.Join(out, ",")
}

// storageClassOf reads the class from the spec or the older beta
// annotation.
func storageClassOf(name string, annotations map[string]string) string {
	if name != "" {
		return name
	}
	return annotations[corev1.BetaStorageClassAnnotation]
}

func attributesClass(name *string) string {
	if name == nil || *name == "" {
		return "<unset>"
	}
	return *name
}

func volumeMode(mode *corev1.PersistentVolumeMode) string {
	if mode == nil {
		return unknownCell
	}
	return string(*mode)
}
