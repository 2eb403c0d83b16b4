// Package rbac decides requests with Kubernetes' role-based access control
// rules: a request is allowed when a RoleBinding in its namespace or a
// ClusterRoleBinding binds one of the caller's identities (user, groups,
// service account) to a Role or ClusterRole with a rule that covers it.
// Rules only allow; there is no deny. A ClusterRole with an
// aggregationRule holds the rules the aggregation controller gathered into
// it (Aggregate).
package rbac
