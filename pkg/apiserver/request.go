package apiserver

import (
	"net/http"
	"strings"
)

// requestInfo is what the URL and method of an API request say.
type requestInfo struct {
	APIPrefix   string // "api" or "apis"
	Group       string
	Version     string
	Namespace   string
	Resource    string
	Name        string
	Subresource string
	Verb        string // get list watch create update patch delete deletecollection
	// Parts is the path below the group version when it is not a
	// resource path (discovery answers for it).
	Parts []string
}

// namespaceSubresources are the subresources of the namespaces resource
// itself, so /api/v1/namespaces/x/status is not a resource named "status".
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// parseRequest splits an API path like /apis/apps/v1/namespaces/ns/deployments/web/scale.
// ok is false for paths outside /api and /apis.
func parseRequest(r *http.Request) (info requestInfo, ok bool) {
	path := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	if len(parts) == 0 {
		return info, false
	}
	info.APIPrefix = parts[0]
	switch parts[0] {
	case "api":
		parts = parts[1:]
		if len(parts) > 0 {
			info.Version, parts = parts[0], parts[1:]
		}
	case "apis":
		parts = parts[1:]
		if len(parts) > 0 {
			info.Group, parts = parts[0], parts[1:]
		}
		if len(parts) > 0 {
			info.Version, parts = parts[0], parts[1:]
		}
	default:
		return info, false
	}
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	watchPath := false
	if len(parts) > 0 && parts[0] == "watch" {
		watchPath, parts = true, parts[1:]
	}
	if len(parts) > 0 && parts[0] == "namespaces" && len(parts) > 1 {
		info.Namespace = parts[1]
		if len(parts) > 2 && !namespaceSubresources[parts[2]] {
			parts = parts[2:]
		} else {
			// The namespace object itself: namespaces/{name}[/status].
			info.Namespace = ""
		}
	}
	info.Parts = parts
	if len(parts) > 0 {
		info.Resource = parts[0]
	}
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = strings.Join(parts[2:], "/")
	}
	info.Verb = verbFor(r, info, watchPath)
	return info, true
}

func verbFor(r *http.Request, info requestInfo, watchPath bool) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if watchPath || isTrue(r.URL.Query().Get("watch")) {
			return "watch"
		}
		if info.Name == "" {
			return "list"
		}
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if info.Name == "" {
			return "deletecollection"
		}
		return "delete"
	}
	return ""
}

func isTrue(s string) bool { return s == "true" || s == "1" }
