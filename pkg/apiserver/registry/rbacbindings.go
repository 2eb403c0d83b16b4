package registry

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A binding grants the role it refers to; that reference is fixed at
// creation, so changing what is granted means replacing the binding.

func roleBindingsResource() *Resource {
	return &Resource{
		Group: rbacv1.GroupName, Version: "v1", Name: "rolebindings", Kind: "RoleBinding", Singular: "rolebinding",
		Namespaced:   true,
		New:          func() runtime.Object { return &rbacv1.RoleBinding{} },
		NewList:      func() runtime.Object { return &rbacv1.RoleBindingList{} },
		NoGeneration: true,
		ValidateName: validateRBACName,
		Default: typedMutate(func(b *rbacv1.RoleBinding) {
			defaultBinding(&b.RoleRef, b.Subjects)
		}),
		Validate: typedValidate(func(b *rbacv1.RoleBinding) field.ErrorList {
			return validateBinding(b.RoleRef, b.Subjects, true)
		}),
		ValidateUpdate: typedValidateUpdate(func(b, old *rbacv1.RoleBinding) field.ErrorList {
			return append(validateBinding(b.RoleRef, b.Subjects, true), validateRoleRefUnchanged(b.RoleRef, old.RoleRef)...)
		}),
		Table: bindingsTable(rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"], "roleBinding",
			tableRow(func(b *rbacv1.RoleBinding) []any {
				return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects)
			})),
	}
}

func clusterRoleBindingsResource() *Resource {
	return &Resource{
		Group: rbacv1.GroupName, Version: "v1", Name: "clusterrolebindings", Kind: "ClusterRoleBinding", Singular: "clusterrolebinding",
		New:          func() runtime.Object { return &rbacv1.ClusterRoleBinding{} },
		NewList:      func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
		NoGeneration: true,
		ValidateName: validateRBACName,
		Default: typedMutate(func(b *rbacv1.ClusterRoleBinding) {
			defaultBinding(&b.RoleRef, b.Subjects)
		}),
		Validate: typedValidate(func(b *rbacv1.ClusterRoleBinding) field.ErrorList {
			return validateBinding(b.RoleRef, b.Subjects, false)
		}),
		ValidateUpdate: typedValidateUpdate(func(b, old *rbacv1.ClusterRoleBinding) field.ErrorList {
			return append(validateBinding(b.RoleRef, b.Subjects, false), validateRoleRefUnchanged(b.RoleRef, old.RoleRef)...)
		}),
		Table: bindingsTable(rbacv1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"], "clusterRoleBinding",
			tableRow(func(b *rbacv1.ClusterRoleBinding) []any {
				return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects)
			})),
	}
}

// defaultBinding fills the API groups rbac/v1 lets clients leave out: the
// role reference's, and the one of User and Group subjects.
func defaultBinding(ref *rbacv1.RoleRef, subjects []rbacv1.Subject) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = rbacv1.GroupName
		}
	}
}

// validateBinding checks the role reference and subjects of a binding. A
// RoleBinding (namespaced) may refer to a Role or a ClusterRole and may
// leave the namespace of a service account subject empty (meaning its
// own); a ClusterRoleBinding refers to a ClusterRole and must name it.
func validateBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	refPath := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(refPath.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(refPath.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(refPath.Child("name"), ""))
	}
	for _, msg := range validateRBACName(ref.Name, false) {
		errs = append(errs, field.Invalid(refPath.Child("name"), ref.Name, msg))
	}
	for i := range subjects {
		errs = append(errs, validateSubject(&subjects[i], namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

func validateSubject(s *rbacv1.Subject, namespaced bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			errs = append(errs, validateDNSSubdomainField(s.Name, path.Child("name"))...)
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(path.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(path.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			errs = append(errs, field.NotSupported(path.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		errs = append(errs, field.NotSupported(path.Child("kind"), s.Kind,
			[]string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}

func validateRoleRefUnchanged(ref, old rbacv1.RoleRef) field.ErrorList {
	if ref != old {
		return field.ErrorList{field.Invalid(field.NewPath("roleRef"), ref, "cannot change roleRef")}
	}
	return nil
}

// bindingsTable is the table of both binding kinds; owner names the kind
// in the descriptions of the wide subject columns.
func bindingsTable(roleDoc, owner string, row func(runtime.Object) []any) *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Role", "string", roleDoc, 0),
			ageColumn(),
			tableColumn("Users", "string", "Users in the "+owner, 1),
			tableColumn("Groups", "string", "Groups in the "+owner, 1),
			tableColumn("ServiceAccounts", "string", "ServiceAccounts in the "+owner, 1),
		},
		Row: row,
	}
}

// bindingRow renders ROLE as "Kind/name" and the subjects by kind, service
// accounts as "namespace/name"; subjects of other kinds are not shown.
func bindingRow(meta *metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject) []any {
	var users, groups, serviceAccounts []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			serviceAccounts = append(serviceAccounts, s.Namespace+"/"+s.Name)
		}
	}
	return []any{
		meta.Name, fmt.Sprintf("%s/%s", ref.Kind, ref.Name), formatAge(meta.CreationTimestamp),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(serviceAccounts, ", "),
	}
}
