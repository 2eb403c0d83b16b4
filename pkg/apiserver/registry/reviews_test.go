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

// aliceMayCreatePods allows alice to create pods and nothing else.
type aliceMayCreatePods struct{ asked []string }

func (az *aliceMayCreatePods) Allowed(user string, _ []string, res *authorizationv1.ResourceAttributes,
	_ *authorizationv1.NonResourceAttributes) bool {
	az.asked = append(az.asked, user)
	return user == "alice" && res != nil && res.Verb == "create" && res.Resource == "pods"
}

func (az *aliceMayCreatePods) Authenticate(token string, audiences []string) (authenticationv1.UserInfo, []string, bool) {
	if token != "alice-token" {
		return authenticationv1.UserInfo{}, nil, false
	}
	return authenticationv1.UserInfo{Username: "alice"}, audiences, true
}

func (az *aliceMayCreatePods) Rules(user string, _ []string, namespace string) authorizationv1.SubjectRulesReviewStatus {
	if user != "alice" {
		return authorizationv1.SubjectRulesReviewStatus{}
	}
	return authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{
		{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
}

func TestSelfSubjectReviewAnswersCaller(t *testing.T) {
	rv := review(t, "selfsubjectreviews")
	obj := rv.New()
	caller := authenticationv1.UserInfo{Username: "alice", Groups: []string{"dev", AllAuthenticated}}
	rv.Answer(obj, caller, &aliceMayCreatePods{})
	if diff := cmp.Diff(caller, obj.(*authenticationv1.SelfSubjectReview).Status.UserInfo); diff != "" {
		t.Errorf("user info (-want +got):\n%s", diff)
	}
}

func TestAccessReviewsAskTheAuthorizerAndValidate(t *testing.T) {
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
	az := &aliceMayCreatePods{}
	rv.Answer(ok, authenticationv1.UserInfo{Username: "alice"}, az)
	if !ok.Status.Allowed {
		t.Errorf("access review not allowed: %+v", ok.Status)
	}
	rv.Answer(ok, authenticationv1.UserInfo{Username: "bob"}, az)
	if ok.Status.Allowed {
		t.Errorf("bob allowed: %+v", ok.Status)
	}

	sar := review(t, "subjectaccessreviews")
	anon := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}}}
	checkErrors(t, "no subject", sar.Validate(anon), []string{
		`spec.user: Invalid value: at least one of user or group must be specified`})
	// A SubjectAccessReview asks about the user it names, not the caller.
	forAlice := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice",
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods"}}}
	az.asked = nil
	sar.Answer(forAlice, authenticationv1.UserInfo{Username: "admin"}, az)
	if !forAlice.Status.Allowed || len(az.asked) != 1 || az.asked[0] != "alice" {
		t.Errorf("review for alice: %+v, asked %v", forAlice.Status, az.asked)
	}

	rules := review(t, "selfsubjectrulesreviews")
	checkErrors(t, "rules without namespace", rules.Validate(&authorizationv1.SelfSubjectRulesReview{}),
		[]string{"spec.namespace: Required value: "})
	rr := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}
	rules.Answer(rr, authenticationv1.UserInfo{Username: "alice"}, az)
	if len(rr.Status.ResourceRules) != 1 || rr.Status.ResourceRules[0].Verbs[0] != "create" {
		t.Errorf("rules = %+v, want alice's rule", rr.Status)
	}
}

func TestTokenReviewAsksTheAuthenticator(t *testing.T) {
	rv := review(t, "tokenreviews")
	checkErrors(t, "no token", rv.Validate(&authenticationv1.TokenReview{}),
		[]string{"spec.token: Required value: token is required for TokenReview in authentication"})
	az := &aliceMayCreatePods{}
	good := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "alice-token", Audiences: []string{"vault"}}}
	rv.Answer(good, authenticationv1.UserInfo{Username: "vault"}, az)
	if !good.Status.Authenticated || good.Status.User.Username != "alice" || len(good.Status.Audiences) != 1 {
		t.Errorf("alice's token: %+v", good.Status)
	}
	bad := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "forged"}}
	rv.Answer(bad, authenticationv1.UserInfo{Username: "vault"}, az)
	if bad.Status.Authenticated || bad.Status.User.Username != "" {
		t.Errorf("forged token: %+v", bad.Status)
	}
}
