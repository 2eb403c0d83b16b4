// Package satoken issues and verifies service account tokens: JSON Web
// Tokens signed with ES256 whose claims have the layout Kubernetes uses
// (iss, sub "system:serviceaccount:<ns>:<name>", aud, exp, iat, nbf, jti
// and the private "kubernetes.io" claim naming the namespace, the service
// account and the object the token is bound to).
package satoken
