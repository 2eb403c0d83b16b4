// Package clusterroleaggregation is the ClusterRole aggregation controller
// ("clusterrole-aggregation-controller"), as in Kubernetes: a ClusterRole
// with an aggregationRule holds, in its rules, the rules of every other
// ClusterRole its selectors match, kept current as those change. The
// default admin, edit and view roles are built this way, so a ClusterRole
// labelled rbac.authorization.k8s.io/aggregate-to-view: "true" (as
// operators ship for their resources) extends view, and through it edit
// and admin.
package clusterroleaggregation
