package registry

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Leases carry leader election and node heartbeats; they change every few
// seconds, so no generation is kept.
func leasesResource() *Resource {
	return &Resource{
		Group: "coordination.k8s.io", Version: "v1", Name: "leases", Kind: "Lease", Singular: "lease",
		Namespaced:     true,
		New:            func() runtime.Object { return &coordinationv1.Lease{} },
		NewList:        func() runtime.Object { return &coordinationv1.LeaseList{} },
		NoGeneration:   true,
		Validate:       typedValidate(validateLease),
		ValidateUpdate: typedValidateUpdate(func(l, _ *coordinationv1.Lease) field.ErrorList { return validateLease(l) }),
		Table: &Table{
			Columns: []metav1.TableColumnDefinition{
				nameColumn(),
				tableColumn("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"], 0),
				ageColumn(),
			},
			Row: tableRow(func(l *coordinationv1.Lease) []any {
				return []any{l.Name, ptr.Deref(l.Spec.HolderIdentity, ""), formatAge(l.CreationTimestamp)}
			}),
		},
	}
}

func validateLease(l *coordinationv1.Lease) field.ErrorList {
	spec := &l.Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	if d := spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(path.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if t := spec.LeaseTransitions; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(path.Child("leaseTransitions"), *t, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		errs = append(errs, validateEnum(*spec.Strategy, path.Child("strategy"), coordinationv1.OldestEmulationVersion)...)
	}
	if ptr.Deref(spec.PreferredHolder, "") != "" && ptr.Deref(spec.Strategy, "") == "" {
		errs = append(errs, field.Forbidden(path.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
