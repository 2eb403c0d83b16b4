package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumes checks the pod's volumes and returns their names for the
// volume mount checks.
func validateVolumes(volumes []corev1.Volume, p *field.Path) (sets.Set[string], field.ErrorList) {
	names := sets.New[string]()
	var errs field.ErrorList
	for i := range volumes {
		v := &volumes[i]
		vp := p.Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else {
			errs = append(errs, validateDNSLabelField(v.Name, vp.Child("name"))...)
			if names.Has(v.Name) {
				errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
			}
			names.Insert(v.Name)
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return names, errs
}

// volumeSourceKinds lists the JSON names of the sources set on src.
func volumeSourceKinds(src *corev1.VolumeSource) []string {
	var kinds []string
	add := func(set bool, name string) {
		if set {
			kinds = append(kinds, name)
		}
	}
	add(src.HostPath != nil, "hostPath")
	add(src.EmptyDir != nil, "emptyDir")
	add(src.GCEPersistentDisk != nil, "gcePersistentDisk")
	add(src.AWSElasticBlockStore != nil, "awsElasticBlockStore")
	add(src.GitRepo != nil, "gitRepo")
	add(src.Secret != nil, "secret")
	add(src.NFS != nil, "nfs")
	add(src.ISCSI != nil, "iscsi")
	add(src.Glusterfs != nil, "glusterfs")
	add(src.PersistentVolumeClaim != nil, "persistentVolumeClaim")
	add(src.RBD != nil, "rbd")
	add(src.FlexVolume != nil, "flexVolume")
	add(src.Cinder != nil, "cinder")
	add(src.CephFS != nil, "cephfs")
	add(src.Flocker != nil, "flocker")
	add(src.DownwardAPI != nil, "downwardAPI")
	add(src.FC != nil, "fc")
	add(src.AzureFile != nil, "azureFile")
	add(src.ConfigMap != nil, "configMap")
	add(src.VsphereVolume != nil, "vsphereVolume")
	add(src.Quobyte != nil, "quobyte")
	add(src.AzureDisk != nil, "azureDisk")
	add(src.PhotonPersistentDisk != nil, "photonPersistentDisk")
	add(src.Projected != nil, "projected")
	add(src.PortworxVolume != nil, "portworxVolume")
	add(src.ScaleIO != nil, "scaleIO")
	add(src.StorageOS != nil, "storageos")
	add(src.CSI != nil, "csi")
	add(src.Ephemeral != nil, "ephemeral")
	add(src.Image != nil, "image")
	return kinds
}

func validateVolumeSource(src *corev1.VolumeSource, p *field.Path) field.ErrorList {
	kinds := volumeSourceKinds(src)
	if len(kinds) == 0 {
		return field.ErrorList{field.Required(p, "must specify a volume type")}
	}
	if len(kinds) > 1 {
		return field.ErrorList{field.Forbidden(p.Child(kinds[1]), "may not specify more than 1 volume type")}
	}
	var errs field.ErrorList
	switch {
	case src.HostPath != nil:
		hp := p.Child("hostPath")
		if src.HostPath.Path == "" {
			errs = append(errs, field.Required(hp.Child("path"), ""))
		}
		if t := src.HostPath.Type; t != nil && *t != corev1.HostPathUnset {
			errs = append(errs, validateEnum(*t, hp.Child("type"),
				corev1.HostPathBlockDev, corev1.HostPathCharDev, corev1.HostPathDirectory, corev1.HostPathDirectoryOrCreate,
				corev1.HostPathFile, corev1.HostPathFileOrCreate, corev1.HostPathSocket)...)
		}
	case src.EmptyDir != nil:
		ep := p.Child("emptyDir")
		switch m := src.EmptyDir.Medium; {
		case m == corev1.StorageMediumDefault, m == corev1.StorageMediumMemory, m == corev1.StorageMediumHugePages,
			strings.HasPrefix(string(m), string(corev1.StorageMediumHugePagesPrefix)):
		default:
			errs = append(errs, field.NotSupported(ep.Child("medium"), m,
				[]corev1.StorageMedium{corev1.StorageMediumDefault, corev1.StorageMediumHugePages, corev1.StorageMediumMemory}))
		}
		if sl := src.EmptyDir.SizeLimit; sl != nil && sl.Sign() < 0 {
			errs = append(errs, field.Invalid(ep.Child("sizeLimit"), sl.String(), "must be greater than or equal to 0"))
		}
	case src.Secret != nil:
		sp := p.Child("secret")
		if src.Secret.SecretName == "" {
			errs = append(errs, field.Required(sp.Child("secretName"), ""))
		}
		errs = append(errs, validateFileMode(src.Secret.DefaultMode, sp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(src.Secret.Items, sp.Child("items"))...)
	case src.ConfigMap != nil:
		cp := p.Child("configMap")
		if src.ConfigMap.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), ""))
		}
		errs = append(errs, validateFileMode(src.ConfigMap.DefaultMode, cp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(src.ConfigMap.Items, cp.Child("items"))...)
	case src.PersistentVolumeClaim != nil:
		if src.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("persistentVolumeClaim", "claimName"), ""))
		}
	case src.NFS != nil:
		np := p.Child("nfs")
		if src.NFS.Server == "" {
			errs = append(errs, field.Required(np.Child("server"), ""))
		}
		if src.NFS.Path == "" {
			errs = append(errs, field.Required(np.Child("path"), ""))
		} else if src.NFS.Path[0] != '/' {
			errs = append(errs, field.Invalid(np.Child("path"), src.NFS.Path, "must be an absolute path"))
		}
	case src.DownwardAPI != nil:
		dp := p.Child("downwardAPI")
		errs = append(errs, validateFileMode(src.DownwardAPI.DefaultMode, dp.Child("defaultMode"))...)
		errs = append(errs, validateDownwardAPIFiles(src.DownwardAPI.Items, dp.Child("items"))...)
	case src.Projected != nil:
		errs = append(errs, validateProjected(src.Projected, p.Child("projected"))...)
	case src.CSI != nil:
		if src.CSI.Driver == "" {
			errs = append(errs, field.Required(p.Child("csi", "driver"), ""))
		}
	case src.Ephemeral != nil:
		if src.Ephemeral.VolumeClaimTemplate == nil {
			errs = append(errs, field.Required(p.Child("ephemeral", "volumeClaimTemplate"), ""))
		} else {
			errs = append(errs, validatePVCSpec(&src.Ephemeral.VolumeClaimTemplate.Spec, p.Child("ephemeral", "volumeClaimTemplate", "spec"))...)
		}
	case src.Image != nil:
		if src.Image.Reference == "" {
			errs = append(errs, field.Required(p.Child("image", "reference"), ""))
		}
	}
	return errs
}

// validateFileMode checks a volume file mode in 0-0777.
func validateFileMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := p.Index(i)
		errs = append(errs, validateKeyRef("-", it.Key, ip)...)
		if it.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
		}
		errs = append(errs, validateFileMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

func validateDownwardAPIFiles(items []corev1.DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
		}
		switch {
		case it.FieldRef != nil && it.ResourceFieldRef != nil:
			errs = append(errs, field.Invalid(ip, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case it.FieldRef != nil:
			errs = append(errs, validateEnvFieldRef(it.FieldRef, ip.Child("fieldRef"))...)
		case it.ResourceFieldRef != nil:
			if it.ResourceFieldRef.Resource == "" {
				errs = append(errs, field.Required(ip.Child("resourceFieldRef", "resource"), ""))
			}
		default:
			errs = append(errs, field.Required(ip, "one of fieldRef and resourceFieldRef is required"))
		}
		errs = append(errs, validateFileMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

func validateProjected(src *corev1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	errs := validateFileMode(src.DefaultMode, p.Child("defaultMode"))
	for i, s := range src.Sources {
		sp := p.Child("sources").Index(i)
		n := 0
		if s.Secret != nil {
			n++
			errs = append(errs, validateKeyToPaths(s.Secret.Items, sp.Child("secret", "items"))...)
		}
		if s.ConfigMap != nil {
			n++
			errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, sp.Child("configMap", "items"))...)
		}
		if s.DownwardAPI != nil {
			n++
			errs = append(errs, validateDownwardAPIFiles(s.DownwardAPI.Items, sp.Child("downwardAPI", "items"))...)
		}
		if t := s.ServiceAccountToken; t != nil {
			n++
			if t.Path == "" {
				errs = append(errs, field.Required(sp.Child("serviceAccountToken", "path"), ""))
			}
			if t.ExpirationSeconds != nil && *t.ExpirationSeconds < 600 {
				errs = append(errs, field.Invalid(sp.Child("serviceAccountToken", "expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
			}
		}
		if s.ClusterTrustBundle != nil {
			n++
		}
		if s.PodCertificate != nil {
			n++
		}
		if n == 0 {
			errs = append(errs, field.Required(sp, "must specify exactly 1 volume type per source"))
		} else if n > 1 {
			errs = append(errs, field.Forbidden(sp, "may not specify more than 1 volume type per source"))
		}
	}
	return errs
}
