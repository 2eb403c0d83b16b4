package satoken

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultIssuer is the issuer of tokens and the audience the API server
// accepts when none is configured, as in Kubernetes clusters whose
// service account issuer is the in-cluster address.
const DefaultIssuer = "https://kubernetes.default.svc.cluster.local"

// Claims are the claims of a service account token.
type Claims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   []string `json:"aud"`
	Expiry     int64    `json:"exp"`
	IssuedAt   int64    `json:"iat"`
	NotBefore  int64    `json:"nbf"`
	ID         string   `json:"jti,omitempty"`
	Kubernetes Private  `json:"kubernetes.io"`
}

// Private is the "kubernetes.io" claim.
type Private struct {
	Namespace      string `json:"namespace"`
	ServiceAccount Ref    `json:"serviceaccount"`
	Pod            *Ref   `json:"pod,omitempty"`
	Secret         *Ref   `json:"secret,omitempty"`
	Node           *Ref   `json:"node,omitempty"`
}

// Ref names an object by name and UID.
type Ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// ServiceAccountsGroup holds every service account.
const ServiceAccountsGroup = "system:serviceaccounts"

// Groups are the groups of a service account of namespace, as Kubernetes
// names them.
func Groups(namespace string) []string {
	return []string{ServiceAccountsGroup, ServiceAccountsGroup + ":" + namespace}
}

// Subject is the user name of a service account.
func Subject(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// SplitSubject returns the namespace and name of a service account user
// name; ok is false for other names.
func SplitSubject(user string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(user, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	return namespace, name, ok && namespace != "" && name != "" && !strings.Contains(name, ":")
}

// HasAudience reports whether the token is meant for one of audiences.
func (c *Claims) HasAudience(audiences []string) bool { return Intersects(c.Audience, audiences) }

// Intersects reports whether two audience lists share one.
func Intersects(a, b []string) bool {
	return slices.ContainsFunc(a, func(x string) bool { return slices.Contains(b, x) })
}

// check verifies the claims' structure against the subject.
func (c *Claims) check() error {
	ns, name, ok := SplitSubject(c.Subject)
	if !ok {
		return fmt.Errorf("subject %q is not a service account", c.Subject)
	}
	if ns != c.Kubernetes.Namespace || name != c.Kubernetes.ServiceAccount.Name {
		return fmt.Errorf("subject %q does not match the kubernetes.io claim", c.Subject)
	}
	return nil
}
