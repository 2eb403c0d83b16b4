package registry

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
)

// coreResource returns the named resource of CoreResources.
func coreResource(t *testing.T, name string) *Resource {
	t.Helper()
	for _, r := range CoreResources() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no core resource %q", name)
	return nil
}

func TestCoreResourcesOrderAndTypes(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range CoreResources() {
		got = append(got, r.Name)
		if r.Group != "" || r.Version != "v1" {
			t.Errorf("%s: served at %s, want v1", r.Name, r.GroupVersion())
		}
		gvks, _, err := scheme.ObjectKinds(r.New())
		if err != nil || len(gvks) == 0 || gvks[0] != r.GroupVersionKind() {
			t.Errorf("%s: New() is %v (%v), want kind %v", r.Name, gvks, err, r.GroupVersionKind())
		}
		listKinds, _, err := scheme.ObjectKinds(r.NewList())
		if err != nil || len(listKinds) == 0 || listKinds[0].Kind != r.Kind+"List" {
			t.Errorf("%s: NewList() is %v (%v)", r.Name, listKinds, err)
		}
		if r.Singular != strings.ToLower(r.Kind) {
			t.Errorf("%s: singular %q, want %q", r.Name, r.Singular, strings.ToLower(r.Kind))
		}
		if r.Table == nil {
			t.Errorf("%s: no table", r.Name)
			continue
		}
		if cells := r.Table.Row(r.New()); len(cells) != len(r.Table.Columns) {
			t.Errorf("%s: %d cells for %d columns", r.Name, len(cells), len(r.Table.Columns))
		}
		names := 0
		for _, c := range r.Table.Columns {
			if c.Format == "name" {
				names++
			}
		}
		if names != 1 {
			t.Errorf("%s: %d name columns, want 1", r.Name, names)
		}
	}
	want := []string{
		"namespaces", "pods", "nodes", "services", "endpoints", "configmaps", "secrets", "events",
		"serviceaccounts", "persistentvolumes", "persistentvolumeclaims", "resourcequotas", "limitranges", "podtemplates",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CoreResources order (-want +got):\n%s", diff)
	}
}

func TestCoreResourcesDiscoveryFacts(t *testing.T) {
	type facts struct {
		Short, Categories   []string
		Namespaced, Status  bool
		NoGeneration, Grace bool
	}
	want := map[string]facts{
		"namespaces":             {Short: []string{"ns"}, Status: true, NoGeneration: true},
		"pods":                   {Short: []string{"po"}, Categories: []string{"all"}, Namespaced: true, Status: true, Grace: true},
		"nodes":                  {Short: []string{"no"}, Status: true, NoGeneration: true},
		"services":               {Short: []string{"svc"}, Categories: []string{"all"}, Namespaced: true, Status: true, NoGeneration: true},
		"endpoints":              {Short: []string{"ep"}, Namespaced: true, NoGeneration: true},
		"configmaps":             {Short: []string{"cm"}, Namespaced: true, NoGeneration: true},
		"secrets":                {Namespaced: true, NoGeneration: true},
		"events":                 {Short: []string{"ev"}, Namespaced: true, NoGeneration: true},
		"serviceaccounts":        {Short: []string{"sa"}, Namespaced: true, NoGeneration: true},
		"persistentvolumes":      {Short: []string{"pv"}, Status: true, NoGeneration: true},
		"persistentvolumeclaims": {Short: []string{"pvc"}, Namespaced: true, Status: true, NoGeneration: true},
		"resourcequotas":         {Short: []string{"quota"}, Namespaced: true, Status: true, NoGeneration: true},
		"limitranges":            {Short: []string{"limits"}, Namespaced: true, NoGeneration: true},
		"podtemplates":           {Namespaced: true},
	}
	for _, r := range CoreResources() {
		got := facts{r.ShortNames, r.Categories, r.Namespaced, r.Status, r.NoGeneration, r.GracefulDeletion != nil}
		if diff := cmp.Diff(want[r.Name], got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", r.Name, diff)
		}
		if r.Scale != nil {
			t.Errorf("%s: core resources have no scale subresource here", r.Name)
		}
	}
}

func TestCoreResourceNames(t *testing.T) {
	tests := []struct {
		resource, name string
		prefix, valid  bool
	}{
		{"namespaces", "team-a", false, true},
		{"namespaces", "team.a", false, false},
		{"namespaces", "team-", true, true},
		{"services", "web", false, true},
		{"services", "1web", false, false},
		{"services", "web.api", false, false},
		{"nodes", "node-1.example.com", false, true},
		{"configmaps", "app.config", false, true},
		{"configmaps", "App", false, false},
	}
	for _, tt := range tests {
		r := coreResource(t, tt.resource)
		validate := r.ValidateName
		if validate == nil {
			// Nil means the API server checks for a DNS-1123 subdomain.
			validate = apivalidation.NameIsDNSSubdomain
		}
		if got := len(validate(tt.name, tt.prefix)) == 0; got != tt.valid {
			t.Errorf("%s name %q (prefix %v): valid=%v, want %v", tt.resource, tt.name, tt.prefix, got, tt.valid)
		}
	}
}
