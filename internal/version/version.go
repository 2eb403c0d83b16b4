// Package version holds tug's own version and the Kubernetes API version it
// serves. Both are plain variables so release builds can set them with
// -ldflags "-X github.com/tugcluster/tug/internal/version.Version=v0.1.0".
package version

// Version is tug's release version ("dev" for local builds).
var Version = "dev"

// KubernetesVersion is the Kubernetes release whose API tug serves; it
// matches the k8s.io/api module tug is built with.
var KubernetesVersion = "v1.37.2"

// ServerGitVersion is what the API server reports as gitVersion on /version:
// the Kubernetes version with tug named as build metadata, so clients that
// compare versions (kubectl's skew warning) see the served API level.
func ServerGitVersion() string {
	return KubernetesVersion + "+tug"
}
