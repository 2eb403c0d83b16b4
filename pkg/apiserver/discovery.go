package apiserver

import (
	"net"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	objectVerbs     = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	subresourceRW   = metav1.Verbs{"get", "patch", "update"}
	podSubresources = []struct {
		name  string
		kind  string
		verbs metav1.Verbs
	}{
		{"binding", "Binding", metav1.Verbs{"create"}},
		{"eviction", "Eviction", metav1.Verbs{"create"}},
		{"log", "Pod", metav1.Verbs{"get"}},
		{"exec", "PodExecOptions", metav1.Verbs{"create", "get"}},
		{"attach", "PodAttachOptions", metav1.Verbs{"create", "get"}},
		{"portforward", "PodPortForwardOptions", metav1.Verbs{"create", "get"}},
	}
)

// serveDiscovery answers /api, /api/v1, /apis, /apis/<g> and /apis/<g>/<v>.
// It reports whether the request was a discovery request.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, info requestInfo) bool {
	if info.Resource != "" {
		return false
	}
	switch {
	case info.APIPrefix == "api" && info.Version == "":
		s.writeJSON(w, http.StatusOK, &metav1.APIVersions{
			TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
			Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
				{ClientCIDR: "0.0.0.0/0", ServerAddress: serverAddress(r)}},
		})
	case info.APIPrefix == "apis" && info.Group == "":
		s.writeJSON(w, http.StatusOK, &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: s.apiGroups()})
	case info.APIPrefix == "apis" && info.Version == "":
		for _, g := range s.apiGroups() {
			if g.Name == info.Group {
				g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
				s.writeJSON(w, http.StatusOK, &g)
				return true
			}
		}
		s.serveNotFound(w, r)
	default:
		list := s.resourceList(info.Group, info.Version)
		if list == nil {
			s.serveNotFound(w, r)
			return true
		}
		s.writeJSON(w, http.StatusOK, list)
	}
	return true
}

func serverAddress(r *http.Request) string {
	host := r.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "6443")
	}
	return host
}

// apiGroups lists the named groups in the order resources are registered.
func (s *Server) apiGroups() []metav1.APIGroup {
	var groups []metav1.APIGroup
	index := map[string]int{}
	for _, r := range s.servedGroupVersions() {
		if r.Group == "" {
			continue
		}
		gv := metav1.GroupVersionForDiscovery{GroupVersion: r.Group + "/" + r.Version, Version: r.Version}
		i, ok := index[r.Group]
		if !ok {
			index[r.Group] = len(groups)
			groups = append(groups, metav1.APIGroup{Name: r.Group, PreferredVersion: gv})
			i = len(groups) - 1
		}
		g := &groups[i]
		if !containsVersion(g.Versions, gv.Version) {
			g.Versions = append(g.Versions, gv)
		}
	}
	return append(groups, metricsAPIGroup())
}

func containsVersion(vs []metav1.GroupVersionForDiscovery, v string) bool {
	for _, x := range vs {
		if x.Version == v {
			return true
		}
	}
	return false
}

// servedGroupVersions lists the group version of every resource and then
// of every review, in registration order (with repeats).
func (s *Server) servedGroupVersions() []schema.GroupVersion {
	gvs := make([]schema.GroupVersion, 0, len(s.ordered)+len(s.reviewsOrdered))
	for _, r := range s.ordered {
		gvs = append(gvs, r.GroupVersion())
	}
	for _, rv := range s.reviewsOrdered {
		gvs = append(gvs, schema.GroupVersion{Group: rv.Group, Version: rv.Version})
	}
	return gvs
}

// resourceList is the APIResourceList of one group version, nil if unknown.
func (s *Server) resourceList(group, version string) *metav1.APIResourceList {
	if group == metricsGroup {
		if version != metricsVersion {
			return nil
		}
		return metricsResources()
	}
	gv := version
	if group != "" {
		gv = group + "/" + version
	}
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
	found := false
	for _, r := range s.ordered {
		if r.Group != group || r.Version != version {
			continue
		}
		found = true
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: r.Name, SingularName: r.Singular, Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: objectVerbs, ShortNames: r.ShortNames, Categories: r.Categories,
		})
		sub := func(name, kind string, verbs metav1.Verbs, grp, ver string) {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: r.Name + "/" + name, Namespaced: r.Namespaced, Kind: kind, Verbs: verbs, Group: grp, Version: ver})
		}
		if r.Status {
			sub("status", r.Kind, subresourceRW, "", "")
		}
		if r.Scale != nil {
			sub("scale", "Scale", subresourceRW, "autoscaling", "v1")
		}
		if r.Group == "" && r.Name == "pods" {
			for _, p := range podSubresources {
				grp, ver := "", ""
				if p.name == "eviction" {
					grp, ver = "policy", "v1"
				}
				sub(p.name, p.kind, p.verbs, grp, ver)
			}
		}
		if r.Group == "" && r.Name == "namespaces" {
			sub("finalize", "Namespace", metav1.Verbs{"update"}, "", "")
		}
	}
	for _, rv := range s.reviewsOrdered {
		if rv.Group == group && rv.Version == version {
			found = true
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: rv.Name, SingularName: rv.Singular, Namespaced: rv.Namespaced, Kind: rv.Kind,
				Verbs: metav1.Verbs{"create"},
			})
		}
	}
	if !found {
		return nil
	}
	return list
}
