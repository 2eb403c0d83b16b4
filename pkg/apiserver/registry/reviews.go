package registry

import (
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/pkg/apiserver/rbac"
)

// AllAuthenticated is the group every authenticated caller belongs to.
const AllAuthenticated = rbac.AuthenticatedGroup

// Review is a create-only resource that is never stored: the server
// answers a posted question about the caller (who am I, may I do this)
// by filling in the object's status and returning it.
type Review struct {
	Group, Version, Name string
	Kind                 string
	Singular             string
	Namespaced           bool

	New func() runtime.Object
	// Validate checks the posted question; nil accepts anything.
	Validate func(obj runtime.Object) field.ErrorList
	// Answer fills the status of obj for the calling user; az answers
	// the questions about tokens and access.
	Answer func(obj runtime.Object, caller authenticationv1.UserInfo, az Reviewer)
}

// Reviewer answers the questions of reviews with the server's
// authentication and authorization rules.
type Reviewer interface {
	// Authenticate checks a bearer token meant for one of audiences (the
	// server's own when empty) and returns its user and the audiences it
	// was checked for.
	Authenticate(token string, audiences []string) (user authenticationv1.UserInfo, checked []string, ok bool)
	// Allowed decides one request of a user (exactly one of res and
	// nonRes is set).
	Allowed(user string, groups []string, res *authorizationv1.ResourceAttributes, nonRes *authorizationv1.NonResourceAttributes) bool
	// Rules lists what the user may do in a namespace.
	Rules(user string, groups []string, namespace string) authorizationv1.SubjectRulesReviewStatus
}

// GroupVersionKind returns the review's group/version/kind.
func (r *Review) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// GroupResource returns the review's group and plural name.
func (r *Review) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Name}
}

// Reviews returns every review resource, in discovery order.
func Reviews() []*Review {
	return []*Review{
		{
			Group: "authentication.k8s.io", Version: "v1", Name: "selfsubjectreviews",
			Kind: "SelfSubjectReview", Singular: "selfsubjectreview",
			New: func() runtime.Object { return &authenticationv1.SelfSubjectReview{} },
			Answer: func(obj runtime.Object, caller authenticationv1.UserInfo, _ Reviewer) {
				obj.(*authenticationv1.SelfSubjectReview).Status.UserInfo = caller
			},
		},
		{
			Group: "authentication.k8s.io", Version: "v1", Name: "tokenreviews",
			Kind: "TokenReview", Singular: "tokenreview",
			New: func() runtime.Object { return &authenticationv1.TokenReview{} },
			Validate: func(obj runtime.Object) field.ErrorList {
				if obj.(*authenticationv1.TokenReview).Spec.Token == "" {
					return field.ErrorList{field.Required(field.NewPath("spec", "token"), "token is required for TokenReview in authentication")}
				}
				return nil
			},
			Answer: func(obj runtime.Object, _ authenticationv1.UserInfo, az Reviewer) {
				r := obj.(*authenticationv1.TokenReview)
				user, audiences, ok := az.Authenticate(r.Spec.Token, r.Spec.Audiences)
				r.Status = authenticationv1.TokenReviewStatus{Authenticated: ok}
				if ok {
					r.Status.User, r.Status.Audiences = user, audiences
				}
			},
		},
		{
			Group: "authorization.k8s.io", Version: "v1", Name: "selfsubjectaccessreviews",
			Kind: "SelfSubjectAccessReview", Singular: "selfsubjectaccessreview",
			New: func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} },
			Validate: func(obj runtime.Object) field.ErrorList {
				s := obj.(*authorizationv1.SelfSubjectAccessReview).Spec
				return validateAccessAttributes(s.ResourceAttributes, s.NonResourceAttributes)
			},
			Answer: func(obj runtime.Object, caller authenticationv1.UserInfo, az Reviewer) {
				r := obj.(*authorizationv1.SelfSubjectAccessReview)
				r.Status = decide(az, caller.Username, caller.Groups, r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			},
		},
		{
			Group: "authorization.k8s.io", Version: "v1", Name: "selfsubjectrulesreviews",
			Kind: "SelfSubjectRulesReview", Singular: "selfsubjectrulesreview",
			New: func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} },
			Validate: func(obj runtime.Object) field.ErrorList {
				if obj.(*authorizationv1.SelfSubjectRulesReview).Spec.Namespace == "" {
					return field.ErrorList{field.Required(field.NewPath("spec", "namespace"), "")}
				}
				return nil
			},
			Answer: func(obj runtime.Object, caller authenticationv1.UserInfo, az Reviewer) {
				r := obj.(*authorizationv1.SelfSubjectRulesReview)
				r.Status = az.Rules(caller.Username, caller.Groups, r.Spec.Namespace)
			},
		},
		{
			// A SubjectAccessReview confined to the namespace it is posted to.
			Group: "authorization.k8s.io", Version: "v1", Name: "localsubjectaccessreviews",
			Kind: "LocalSubjectAccessReview", Singular: "localsubjectaccessreview", Namespaced: true,
			New: func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} },
			Validate: func(obj runtime.Object) field.ErrorList {
				r := obj.(*authorizationv1.LocalSubjectAccessReview)
				errs := validateSubjectAccess(r.Spec)
				spec := field.NewPath("spec")
				if r.Spec.NonResourceAttributes != nil {
					errs = append(errs, field.Invalid(spec.Child("nonResourceAttributes"), r.Spec.NonResourceAttributes,
						"disallowed on this kind of request"))
				}
				if ra := r.Spec.ResourceAttributes; ra != nil && ra.Namespace != "" && ra.Namespace != r.Namespace {
					errs = append(errs, field.Invalid(spec.Child("resourceAttributes", "namespace"), ra.Namespace,
						"must match metadata.namespace"))
				}
				return errs
			},
			Answer: func(obj runtime.Object, _ authenticationv1.UserInfo, az Reviewer) {
				r := obj.(*authorizationv1.LocalSubjectAccessReview)
				if r.Spec.ResourceAttributes != nil {
					r.Spec.ResourceAttributes.Namespace = r.Namespace
				}
				r.Status = decide(az, r.Spec.User, r.Spec.Groups, r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			},
		},
		{
			Group: "authorization.k8s.io", Version: "v1", Name: "subjectaccessreviews",
			Kind: "SubjectAccessReview", Singular: "subjectaccessreview",
			New: func() runtime.Object { return &authorizationv1.SubjectAccessReview{} },
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateSubjectAccess(obj.(*authorizationv1.SubjectAccessReview).Spec)
			},
			Answer: func(obj runtime.Object, _ authenticationv1.UserInfo, az Reviewer) {
				r := obj.(*authorizationv1.SubjectAccessReview)
				r.Status = decide(az, r.Spec.User, r.Spec.Groups, r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			},
		},
	}
}

func decide(az Reviewer, user string, groups []string, res *authorizationv1.ResourceAttributes,
	nonRes *authorizationv1.NonResourceAttributes) authorizationv1.SubjectAccessReviewStatus {
	return authorizationv1.SubjectAccessReviewStatus{Allowed: az.Allowed(user, groups, res, nonRes)}
}

// validateSubjectAccess checks a review about someone else: its
// attributes, and a user or group to ask about.
func validateSubjectAccess(s authorizationv1.SubjectAccessReviewSpec) field.ErrorList {
	errs := validateAccessAttributes(s.ResourceAttributes, s.NonResourceAttributes)
	if s.User == "" && len(s.Groups) == 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "user"), s.User,
			"at least one of user or group must be specified"))
	}
	return errs
}

// validateAccessAttributes requires exactly one of the two attribute sets,
// with the same message as Kubernetes.
func validateAccessAttributes(res *authorizationv1.ResourceAttributes, nonRes *authorizationv1.NonResourceAttributes) field.ErrorList {
	spec := field.NewPath("spec")
	switch {
	case res == nil && nonRes == nil:
		return field.ErrorList{field.Invalid(spec.Child("resourceAttributes"), res,
			`exactly one of nonResourceAttributes or resourceAttributes must be specified`)}
	case res != nil && nonRes != nil:
		return field.ErrorList{field.Invalid(spec.Child("nonResourceAttributes"), nonRes,
			`cannot be specified in combination with resourceAttributes`)}
	}
	return nil
}
