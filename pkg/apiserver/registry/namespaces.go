package registry

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func namespacesResource() *Resource {
	return &Resource{
		Version: "v1", Name: "namespaces", Singular: "namespace", Kind: "Namespace",
		ShortNames:   []string{"ns"},
		New:          func() runtime.Object { return &corev1.Namespace{} },
		NewList:      func() runtime.Object { return &corev1.NamespaceList{} },
		Status:       true,
		NoGeneration: true,
		ValidateName: apivalidation.ValidateNamespaceName,

		Default:              typedMutate(defaultNamespace),
		PrepareForCreate:     typedMutate(prepareNamespaceForCreate),
		PrepareForUpdate:     typedMutateUpdate(func(ns, old *corev1.Namespace) { ns.Spec.Finalizers = old.Spec.Finalizers }),
		Validate:             typedValidate(validateNamespace),
		ValidateUpdate:       typedValidateUpdate(func(ns, _ *corev1.Namespace) field.ErrorList { return validateNamespace(ns) }),
		ValidateStatusUpdate: typedValidateUpdate(validateNamespaceStatusUpdate),
		Fields: typedFields(func(ns *corev1.Namespace) fields.Set {
			return fields.Set{"name": ns.Name, "status.phase": string(ns.Status.Phase)}
		}),
		Table: &Table{
			Columns: []metav1.TableColumnDefinition{
				nameColumn(),
				tableColumn("Status", "string", "The status of the namespace", 0),
				ageColumn(),
			},
			Row: tableRow(func(ns *corev1.Namespace) []any {
				return []any{ns.Name, string(ns.Status.Phase), formatAge(ns.CreationTimestamp)}
			}),
		},
	}
}

// defaultNamespace labels the namespace with its own name, so that
// namespace selectors can pick it by name.
func defaultNamespace(ns *corev1.Namespace) {
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

// prepareNamespaceForCreate starts the namespace Active, with the
// "kubernetes" finalizer that the namespace controller removes once it has
// emptied the namespace. spec.finalizers then changes only through
// /finalize, never by update.
func prepareNamespaceForCreate(ns *corev1.Namespace) {
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return
		}
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
}

func validateNamespace(ns *corev1.Namespace) field.ErrorList {
	var errs field.ErrorList
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, apivalidation.ValidateFinalizerName(string(f), field.NewPath("spec", "finalizers").Index(i))...)
	}
	return errs
}

func validateNamespaceStatusUpdate(ns, _ *corev1.Namespace) field.ErrorList {
	p := field.NewPath("status", "phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}
