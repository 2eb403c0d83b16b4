package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
)

func review(t *testing.T, name string) *Review {
	t.Helper()
	for _, rv := range Reviews() {
		if rv.Name == name {
			return rv
		}
	}
	t.Fatalf("no review %s", name)
	return nil
}

func TestSelfSubjectReviewAnswersCaller(t *testing.T) {
	rv := review(t, "selfsubjectreviews")
	obj := rv.New()
	caller := authenticationv1.UserInfo{Username: "alice", Groups: []string{"dev", AllAuthenticated}}
	rv.Answer(obj, caller)
	if diff := cmp.Diff(caller, obj.(*authenticationv1.SelfSubjectReview).Status.UserInfo); diff != "" {
		t.Errorf("user info (-want +got):\n%s", diff)
	}
}

func TestAccessReviewsAllowAndValidate(t *testing.T) {
	rv := review(t, "selfsubjectaccessreviews")
	empty := &authorizationv1.SelfSubjectAccessReview{}
	checkErrors(t, "no attributes", rv.Validate(empty), []string{
		"spec.resourceAttributes: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified"})
	both := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes:    &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"},
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/healthz"},
	}}
	if len(rv.Validate(both)) != 1 {
		t.Errorf("both attribute sets accepted")
	}
	ok := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods"}}}
	checkErrors(t, "resource attributes", rv.Validate(ok), nil)
	rv.Answer(ok, authenticationv1.UserInfo{Username: "alice"})
	if !ok.Status.Allowed {
		t.Errorf("access review not allowed: %+v", ok.Status)
	}

	sar := review(t, "subjectaccessreviews")
	anon := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}}}
	checkErrors(t, "no subject", sar.Validate(anon), []string{
		`spec.user: Invalid value: at least one of user or group must be specified`})

	rules := review(t, "selfsubjectrulesreviews")
	checkErrors(t, "rules without namespace", rules.Validate(&authorizationv1.SelfSubjectRulesReview{}),
		[]string{"spec.namespace: Required value: "})
	rr := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}
	rules.Answer(rr, authenticationv1.UserInfo{Username: "alice"})
	if len(rr.Status.ResourceRules) != 1 || rr.Status.ResourceRules[0].Verbs[0] != "*" {
		t.Errorf("rules = %+v, want everything allowed", rr.Status)
	}
}
