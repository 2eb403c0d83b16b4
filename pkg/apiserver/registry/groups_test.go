package registry

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestGroupResourcesOrderAndTypes(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range GroupResources() {
		got = append(got, r.GroupVersion().String()+"/"+r.Name)
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
		if r.Table == nil || r.Table.Columns[0].Format != "name" {
			t.Errorf("%s: table must start with the name column", r.Name)
		}
	}
	want := []string{
		"apps/v1/deployments", "apps/v1/replicasets", "apps/v1/daemonsets", "apps/v1/statefulsets",
		"apps/v1/controllerrevisions", "batch/v1/jobs", "batch/v1/cronjobs", "coordination.k8s.io/v1/leases",
		"discovery.k8s.io/v1/endpointslices", "autoscaling/v2/horizontalpodautoscalers",
		"scheduling.k8s.io/v1/priorityclasses", "storage.k8s.io/v1/storageclasses", "policy/v1/poddisruptionbudgets",
		"rbac.authorization.k8s.io/v1/clusterrolebindings", "rbac.authorization.k8s.io/v1/clusterroles",
		"rbac.authorization.k8s.io/v1/rolebindings", "rbac.authorization.k8s.io/v1/roles",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GroupResources order (-want +got):\n%s", diff)
	}
}

func TestGroupResourcesDiscoveryFacts(t *testing.T) {
	type facts struct {
		Short, Categories   []string
		Namespaced, Status  bool
		Scale, NoGeneration bool
	}
	want := map[string]facts{
		"deployments":              {Short: []string{"deploy"}, Categories: []string{"all"}, Namespaced: true, Status: true, Scale: true},
		"replicasets":              {Short: []string{"rs"}, Categories: []string{"all"}, Namespaced: true, Status: true, Scale: true},
		"daemonsets":               {Short: []string{"ds"}, Categories: []string{"all"}, Namespaced: true, Status: true},
		"statefulsets":             {Short: []string{"sts"}, Categories: []string{"all"}, Namespaced: true, Status: true, Scale: true},
		"controllerrevisions":      {Namespaced: true, NoGeneration: true},
		"jobs":                     {Categories: []string{"all"}, Namespaced: true, Status: true},
		"cronjobs":                 {Short: []string{"cj"}, Categories: []string{"all"}, Namespaced: true, Status: true},
		"leases":                   {Namespaced: true, NoGeneration: true},
		"endpointslices":           {Namespaced: true},
		"horizontalpodautoscalers": {Short: []string{"hpa"}, Categories: []string{"all"}, Namespaced: true, Status: true, NoGeneration: true},
		"priorityclasses":          {Short: []string{"pc"}, NoGeneration: true},
		"storageclasses":           {Short: []string{"sc"}, NoGeneration: true},
		"poddisruptionbudgets":     {Short: []string{"pdb"}, Namespaced: true, Status: true},
		"clusterrolebindings":      {NoGeneration: true},
		"clusterroles":             {NoGeneration: true},
		"rolebindings":             {Namespaced: true, NoGeneration: true},
		"roles":                    {Namespaced: true, NoGeneration: true},
	}
	for _, r := range GroupResources() {
		got := facts{r.ShortNames, r.Categories, r.Namespaced, r.Status, r.Scale != nil, r.NoGeneration}
		if diff := cmp.Diff(want[r.Name], got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", r.Name, diff)
		}
	}
}

// groupResource returns the named resource of GroupResources.
func groupResource(t *testing.T, name string) *Resource {
	t.Helper()
	for _, r := range GroupResources() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no resource %q", name)
	return nil
}

// testUID is the uid the API server would have assigned.
const testUID = types.UID("0b6d2f36-5f0e-4a35-9d6e-2c1f0c7a9d11")

// createErrors runs obj through the create hooks the way the API server
// does (uid first, then Default, PrepareForCreate, Validate).
func createErrors(r *Resource, obj runtime.Object) field.ErrorList {
	if m, ok := obj.(metav1.Object); ok && m.GetUID() == "" {
		m.SetUID(testUID)
	}
	if r.Default != nil {
		r.Default(obj)
	}
	if r.PrepareForCreate != nil {
		r.PrepareForCreate(obj)
	}
	if r.Validate == nil {
		return nil
	}
	return r.Validate(obj)
}

// updateErrors defaults both objects and validates the update.
func updateErrors(r *Resource, obj, old runtime.Object) field.ErrorList {
	if r.Default != nil {
		r.Default(obj)
		r.Default(old)
	}
	if r.PrepareForUpdate != nil {
		r.PrepareForUpdate(obj, old)
	}
	return r.ValidateUpdate(obj, old)
}

// errorSummaries renders errors as "field: type: detail" so tests compare
// paths and reasons without depending on how values print.
func errorSummaries(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s: %s: %s", e.Field, e.Type, e.Detail))
	}
	return out
}

// checkErrors fails unless errs holds exactly the wanted summaries (in any
// order); want nil means no error.
func checkErrors(t *testing.T, name string, errs field.ErrorList, want []string) {
	t.Helper()
	got := errorSummaries(errs)
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if len(want) == 0 {
		want = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: errors (-want +got):\n%s", name, diff)
	}
}

// checkRow compares a table row, replacing AGE cells by "AGE".
func checkRow(t *testing.T, r *Resource, obj runtime.Object, want []any) {
	t.Helper()
	got := r.Table.Row(obj)
	if len(got) != len(r.Table.Columns) {
		t.Errorf("%s: row has %d cells for %d columns", r.Name, len(got), len(r.Table.Columns))
	}
	for i, c := range r.Table.Columns {
		if c.Name == "Age" && i < len(got) {
			got[i] = "AGE"
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s row (-want +got):\n%s", r.Name, diff)
	}
}

// columnNames lists a table's columns, wide ones marked with "*".
func columnNames(r *Resource) []string {
	var names []string
	for _, c := range r.Table.Columns {
		n := strings.ToUpper(c.Name)
		if c.Priority > 0 {
			n += "*"
		}
		names = append(names, n)
	}
	return names
}

// podTemplate is a minimal valid pod template with the given labels.
func podTemplate(labels map[string]string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy: restart,
			Containers:    []corev1.Container{{Name: "web", Image: "nginx:1.27"}},
		},
	}
}

// objectMeta is metadata created an hour ago.
func objectMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: metav1.NewTime(time.Now().Add(-time.Hour))}
}

// mutated returns a changed deep copy of base, for table-driven cases.
func mutated[T runtime.Object](base T, mutate func(T)) T {
	c := base.DeepCopyObject().(T)
	mutate(c)
	return c
}
