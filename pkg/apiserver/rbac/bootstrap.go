package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/tugcluster/tug/pkg/apiserver/satoken"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Groups and names of the default policy.
const (
	MastersGroup         = "system:masters"
	AuthenticatedGroup   = "system:authenticated"
	UnauthenticatedGroup = "system:unauthenticated"
	ServiceAccountsGroup = satoken.ServiceAccountsGroup
)

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "delete", "deletecollection", "patch", "update"}
	allVerbs   = append(append([]string{}, readVerbs...), writeVerbs...)
)

func rule(verbs []string, group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources}
}

// viewRules read everything of a namespace except Secrets.
var viewRules = []rbacv1.PolicyRule{
	rule(readVerbs, "", "pods", "pods/log", "pods/status", "configmaps", "endpoints", "persistentvolumeclaims",
		"persistentvolumeclaims/status", "serviceaccounts", "services", "services/status", "events",
		"limitranges", "resourcequotas", "resourcequotas/status", "namespaces", "namespaces/status", "podtemplates"),
	rule(readVerbs, "apps", "controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
		"deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status",
		"statefulsets", "statefulsets/scale", "statefulsets/status"),
	rule(readVerbs, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
	rule(readVerbs, "batch", "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
	rule(readVerbs, "discovery.k8s.io", "endpointslices"),
	rule(readVerbs, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
	rule(readVerbs, "coordination.k8s.io", "leases"),
	rule(readVerbs, "events.k8s.io", "events"),
	rule(readVerbs, "metrics.k8s.io", "pods", "nodes"),
}

// editRules change the workloads and configuration of a namespace (edit
// also reads what view reads, by aggregation).
var editRules = []rbacv1.PolicyRule{
	rule(allVerbs, "", "pods", "configmaps", "endpoints", "persistentvolumeclaims", "secrets",
		"serviceaccounts", "services", "events", "podtemplates"),
	rule([]string{"create", "get"}, "", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "services/proxy"),
	rule([]string{"create"}, "", "pods/eviction", "serviceaccounts/token"),
	rule(allVerbs, "apps", "daemonsets", "deployments", "deployments/rollback", "deployments/scale",
		"replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"),
	rule(allVerbs, "autoscaling", "horizontalpodautoscalers"),
	rule(allVerbs, "batch", "cronjobs", "jobs"),
	rule(allVerbs, "discovery.k8s.io", "endpointslices"),
	rule(allVerbs, "policy", "poddisruptionbudgets"),
	rule(allVerbs, "coordination.k8s.io", "leases"),
}

// adminRules add the namespace's own access control (admin also holds
// edit's, by aggregation).
var adminRules = []rbacv1.PolicyRule{
	rule(allVerbs, "rbac.authorization.k8s.io", "roles", "rolebindings"),
	rule([]string{"create"}, "authorization.k8s.io", "localsubjectaccessreviews"),
}

// AggregateLabelPrefix starts the labels that add a ClusterRole's rules to
// admin, edit or view ("…/aggregate-to-edit: true").
const AggregateLabelPrefix = "rbac.authorization.k8s.io/aggregate-to-"

// aggregated is a ClusterRole made of the roles labelled
// AggregateLabelPrefix+to, itself labelled so it adds to the roles in into.
func aggregated(name, to string, into ...string) *rbacv1.ClusterRole {
	cr := clusterRole(name)
	cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchLabels: map[string]string{AggregateLabelPrefix + to: "true"}}}}
	for _, r := range into {
		cr.Labels[AggregateLabelPrefix+r] = "true"
	}
	return cr
}

// part is a ClusterRole whose rules aggregate into the roles in into.
func part(name string, rules []rbacv1.PolicyRule, into ...string) *rbacv1.ClusterRole {
	cr := clusterRole(name, rules...)
	for _, r := range into {
		cr.Labels[AggregateLabelPrefix+r] = "true"
	}
	return cr
}

var publicInfoURLs = []string{"/healthz", "/livez", "/readyz", "/version", "/version/"}

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: bootstrapMeta(name), Rules: rules}
}

func bootstrapMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:        name,
		Labels:      map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"},
		Annotations: map[string]string{AutoUpdateAnnotation: "true"},
	}
}

// DefaultClusterRoles are the ClusterRoles every cluster starts with, the
// aggregated ones (admin, edit, view, as in Kubernetes) already holding
// what they aggregate.
func DefaultClusterRoles() []*rbacv1.ClusterRole {
	roles := []*rbacv1.ClusterRole{
		clusterRole("cluster-admin",
			rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}),
		aggregated("admin", "admin"),
		aggregated("edit", "edit", "admin"),
		aggregated("view", "view", "edit"),
		part("system:aggregate-to-admin", adminRules, "admin"),
		part("system:aggregate-to-edit", editRules, "edit"),
		part("system:aggregate-to-view", viewRules, "view"),
		clusterRole("system:discovery", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
			"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}}),
		clusterRole("system:basic-user", rule([]string{"create"}, "authorization.k8s.io",
			"selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule([]string{"create"}, "authentication.k8s.io", "selfsubjectreviews")),
		clusterRole("system:public-info-viewer", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: publicInfoURLs}),
		clusterRole("system:auth-delegator",
			rule([]string{"create"}, "authentication.k8s.io", "tokenreviews"),
			rule([]string{"create"}, "authorization.k8s.io", "subjectaccessreviews")),
		clusterRole("system:service-account-issuer-discovery", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{
			"/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"}}),
	}
	// view first: edit aggregates view, admin aggregates edit.
	for _, name := range []string{"view", "edit", "admin"} {
		i := slices.IndexFunc(roles, func(r *rbacv1.ClusterRole) bool { return r.Name == name })
		roles[i].Rules = Aggregate(roles[i], roles)
	}
	return roles
}

// DefaultClusterRoleBindings bind the default roles to the built-in groups.
func DefaultClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	bind := func(role string, groups ...string) *rbacv1.ClusterRoleBinding {
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: bootstrapMeta(role),
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}
		for _, g := range groups {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
		}
		return b
	}
	return []*rbacv1.ClusterRoleBinding{
		bind("cluster-admin", MastersGroup),
		bind("system:discovery", AuthenticatedGroup),
		bind("system:basic-user", AuthenticatedGroup),
		bind("system:public-info-viewer", AuthenticatedGroup, UnauthenticatedGroup),
		bind("system:service-account-issuer-discovery", ServiceAccountsGroup),
	}
}
