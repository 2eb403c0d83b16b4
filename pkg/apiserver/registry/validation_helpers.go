package registry

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The adapters below turn typed hook functions into the runtime.Object
// hooks of Resource. A hook called with an unexpected type does nothing
// (or reports an internal error when it validates).

func typedMutate[T runtime.Object](f func(T)) func(runtime.Object) {
	return func(obj runtime.Object) {
		if t, ok := obj.(T); ok {
			f(t)
		}
	}
}

func typedMutateUpdate[T runtime.Object](f func(obj, old T)) func(runtime.Object, runtime.Object) {
	return func(obj, old runtime.Object) {
		t, ok1 := obj.(T)
		o, ok2 := old.(T)
		if ok1 && ok2 {
			f(t, o)
		}
	}
}

func typedValidate[T runtime.Object](f func(T) field.ErrorList) func(runtime.Object) field.ErrorList {
	return func(obj runtime.Object) field.ErrorList {
		t, ok := obj.(T)
		if !ok {
			return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected object type %T", obj))}
		}
		return f(t)
	}
}

func typedValidateUpdate[T runtime.Object](f func(obj, old T) field.ErrorList) func(runtime.Object, runtime.Object) field.ErrorList {
	return func(obj, old runtime.Object) field.ErrorList {
		t, ok1 := obj.(T)
		o, ok2 := old.(T)
		if !ok1 || !ok2 {
			return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected object types %T, %T", obj, old))}
		}
		return f(t, o)
	}
}

func typedFields[T runtime.Object](f func(T) fields.Set) func(runtime.Object) fields.Set {
	return func(obj runtime.Object) fields.Set {
		t, ok := obj.(T)
		if !ok {
			return fields.Set{}
		}
		return f(t)
	}
}

// boolField renders a boolean for a field selector ("true"/"false").
func boolField(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// validateDNSLabelField reports value as invalid at path unless it is a
// DNS-1123 label.
func validateDNSLabelField(value string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

// validateDNSSubdomainField reports value as invalid at path unless it is
// a DNS-1123 subdomain.
func validateDNSSubdomainField(value string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(value) {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

// validateEnum reports value as unsupported unless it is one of allowed.
// An empty value is reported as required.
func validateEnum[T ~string](value T, path *field.Path, allowed ...T) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(path, value, allowed)}
}

// validatePortNumber checks a port in 1-65535.
func validatePortNumber(port int32, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(path, port, msg))
	}
	return errs
}

// validateNonnegative checks value >= 0.
func validateNonnegative(value int64, path *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(value, path)
}

// validateImmutable reports "field is immutable" when the values differ.
func validateImmutable(newVal, oldVal any, path *field.Path) field.ErrorList {
	return apivalidation.ValidateImmutableField(newVal, oldVal, path)
}

// validateMetaLabelsAnnotations checks the labels and annotations of an
// embedded object metadata (templates); top-level metadata is checked by
// the API server.
func validateMetaLabelsAnnotations(meta *metav1.ObjectMeta, path *field.Path) field.ErrorList {
	errs := metavalidation.ValidateLabels(meta.Labels, path.Child("labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(meta.Annotations, path.Child("annotations"))...)
	return errs
}

// validateResourceName checks a resource name such as "cpu",
// "memory" or "example.com/gpu".
func validateResourceName(name corev1.ResourceName, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	if len(errs) == 0 && !strings.Contains(string(name), "/") && !isStandardResourceName(name) {
		errs = append(errs, field.Invalid(path, name, "must be a standard resource type or fully qualified"))
	}
	return errs
}

// isStandardResourceName reports whether name is a resource Kubernetes
// knows without a domain prefix (compute resources and quota names).
func isStandardResourceName(name corev1.ResourceName) bool {
	s := string(name)
	if strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) || strings.HasPrefix(s, corev1.ResourceRequestsHugePagesPrefix) ||
		strings.HasPrefix(s, "limits.hugepages-") || strings.HasPrefix(s, "count/") {
		return true
	}
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceStorage, corev1.ResourceEphemeralStorage,
		corev1.ResourcePods, corev1.ResourceServices, corev1.ResourceReplicationControllers, corev1.ResourceQuotas,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage,
		corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
		corev1.ResourceLimitsEphemeralStorage:
		return true
	}
	return false
}

// validateResourceList checks resource names and that every quantity is
// non-negative.
func validateResourceList(list corev1.ResourceList, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedResourceNames(list) {
		q := list[name]
		p := path.Key(string(name))
		errs = append(errs, validateResourceName(name, p)...)
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p, q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

// sortedResourceNames returns the keys of list in order, so errors and
// table cells are stable.
func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for name := range list {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

// validateLabelSelectorMap checks a map-form selector (services, RCs).
func validateLabelSelectorMap(selector map[string]string, path *field.Path) field.ErrorList {
	return metavalidation.ValidateLabels(selector, path)
}
