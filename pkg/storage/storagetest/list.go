package storagetest

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tugcluster/tug/pkg/storage"
)

func names(list *corev1.ConfigMapList) []string {
	out := []string{}
	for _, cm := range list.Items {
		out = append(out, cm.Namespace+"/"+cm.Name)
	}
	return out
}

func mustList(t *testing.T, s storage.Interface, k string, opts storage.ListOptions) *corev1.ConfigMapList {
	t.Helper()
	list := &corev1.ConfigMapList{}
	if err := s.GetList(testContext(t), k, opts, list); err != nil {
		t.Fatalf("list %s %+v: %v", k, opts, err)
	}
	return list
}

func selector(t *testing.T, label, field string) storage.SelectionPredicate {
	t.Helper()
	p := storage.SelectionPredicate{GetAttrs: GetAttrs}
	if label != "" {
		sel, err := labels.Parse(label)
		if err != nil {
			t.Fatal(err)
		}
		p.Label = sel
	}
	if field != "" {
		sel, err := fields.ParseSelector(field)
		if err != nil {
			t.Fatal(err)
		}
		p.Field = sel
	}
	return p
}

func testListPredicates(t *testing.T, s storage.Interface) {
	mustCreate(t, s, configMap("ns2", "b", map[string]string{"app": "web"}, nil))
	mustCreate(t, s, configMap("ns1", "a", map[string]string{"app": "web"}, nil))
	mustCreate(t, s, configMap("ns1", "c", map[string]string{"app": "db"}, nil))
	last := mustCreate(t, s, configMap("ns2", "a", nil, nil))

	cases := []struct {
		name         string
		key          string
		label, field string
		want         []string
	}{
		{name: "all", key: Prefix, want: []string{"ns1/a", "ns1/c", "ns2/a", "ns2/b"}},
		{name: "all without trailing slash", key: "/registry/configmaps", want: []string{"ns1/a", "ns1/c", "ns2/a", "ns2/b"}},
		{name: "namespace", key: Prefix + "ns1", want: []string{"ns1/a", "ns1/c"}},
		{name: "label", key: Prefix, label: "app=web", want: []string{"ns1/a", "ns2/b"}},
		{name: "label exists", key: Prefix, label: "!app", want: []string{"ns2/a"}},
		{name: "field name", key: Prefix, field: "metadata.name=a", want: []string{"ns1/a", "ns2/a"}},
		{name: "label and field", key: Prefix, label: "app=web", field: "metadata.namespace=ns2", want: []string{"ns2/b"}},
		{name: "nothing", key: Prefix, label: "app=none", want: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list := mustList(t, s, tc.key, storage.ListOptions{Recursive: true, Predicate: selector(t, tc.label, tc.field)})
			if diff := cmp.Diff(tc.want, names(list)); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if rv, _ := strconv.ParseInt(list.ResourceVersion, 10, 64); rv < rvOf(t, last) {
				t.Errorf("list resourceVersion %q older than the last write %s", list.ResourceVersion, last.ResourceVersion)
			}
			for _, cm := range list.Items {
				if cm.ResourceVersion == "" {
					t.Errorf("item %s has no resourceVersion", cm.Name)
				}
			}
		})
	}

	one := mustList(t, s, key("ns1", "c"), storage.ListOptions{})
	if diff := cmp.Diff([]string{"ns1/c"}, names(one)); diff != "" {
		t.Errorf("non-recursive list of one key (-want +got):\n%s", diff)
	}
}

func createNumbered(t *testing.T, s storage.Interface, n int) {
	t.Helper()
	for i := range n {
		lbl := map[string]string{"parity": "even"}
		if i%2 == 1 {
			lbl["parity"] = "odd"
		}
		mustCreate(t, s, configMap("ns1", "cm-"+strconv.Itoa(10+i), lbl, map[string]string{"v": "1"}))
	}
}

func testListPaging(t *testing.T, s storage.Interface) {
	createNumbered(t, s, 10)
	var all []string
	opts := storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{Limit: 3}}
	first := mustList(t, s, Prefix, opts)
	if first.Continue == "" {
		t.Fatal("first page of 3 out of 10 has no continue token")
	}
	if first.RemainingItemCount == nil || *first.RemainingItemCount != 7 {
		t.Errorf("remainingItemCount = %v, want 7", first.RemainingItemCount)
	}
	all = append(all, names(first)...)

	// Writes between pages must not show: the pages are one snapshot.
	mustCreate(t, s, configMap("ns1", "cm-99", nil, nil))
	mustDelete(t, s, "ns1", "cm-19")
	mustUpdate(t, s, "ns1", "cm-18", func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" })

	cont := first.Continue
	for pages := 1; cont != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page := mustList(t, s, Prefix, storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{Limit: 3, Continue: cont}})
		if page.ResourceVersion != first.ResourceVersion {
			t.Errorf("page resourceVersion %s, want the first page's %s", page.ResourceVersion, first.ResourceVersion)
		}
		for _, cm := range page.Items {
			if cm.Name == "cm-18" && cm.Data["v"] != "1" {
				t.Errorf("page shows a write made after the first page: %v", cm.Data)
			}
		}
		all = append(all, names(page)...)
		cont = page.Continue
	}
	var want []string
	for i := range 10 {
		want = append(want, "ns1/cm-"+strconv.Itoa(10+i))
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("all pages (-want +got):\n%s", diff)
	}
}

func testListPagingWithSelector(t *testing.T, s storage.Interface) {
	createNumbered(t, s, 10)
	var all []string
	cont := ""
	for pages := 0; pages == 0 || cont != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		p := selector(t, "parity=odd", "")
		p.Limit, p.Continue = 2, cont
		page := mustList(t, s, Prefix, storage.ListOptions{Recursive: true, Predicate: p})
		if len(page.Items) > 2 {
			t.Errorf("page of limit 2 has %d items", len(page.Items))
		}
		if page.RemainingItemCount != nil {
			t.Errorf("remainingItemCount set with a selector: %d", *page.RemainingItemCount)
		}
		all = append(all, names(page)...)
		cont = page.Continue
	}
	want := []string{"ns1/cm-11", "ns1/cm-13", "ns1/cm-15", "ns1/cm-17", "ns1/cm-19"}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("all pages (-want +got):\n%s", diff)
	}
}

func testListExact(t *testing.T, s storage.Interface) {
	mustCreate(t, s, configMap("ns1", "a", nil, map[string]string{"v": "1"}))
	b := mustCreate(t, s, configMap("ns1", "b", nil, nil))
	mustCreate(t, s, configMap("ns1", "c", nil, nil))
	mustUpdate(t, s, "ns1", "a", func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" })
	gone := mustDelete(t, s, "ns1", "b")

	for _, limit := range []int64{0, 1} {
		var items []corev1.ConfigMap
		opts := storage.ListOptions{
			ResourceVersion:      b.ResourceVersion,
			ResourceVersionMatch: metav1.ResourceVersionMatchExact,
			Recursive:            true,
			Predicate:            storage.SelectionPredicate{Limit: limit},
		}
		for {
			list := mustList(t, s, Prefix, opts)
			if list.ResourceVersion != b.ResourceVersion {
				t.Errorf("exact list resourceVersion %s, want %s", list.ResourceVersion, b.ResourceVersion)
			}
			items = append(items, list.Items...)
			if list.Continue == "" {
				break
			}
			opts = storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{Limit: limit, Continue: list.Continue}}
		}
		got := map[string]string{}
		for _, cm := range items {
			got[cm.Name] = cm.Data["v"]
		}
		if diff := cmp.Diff(map[string]string{"a": "1", "b": ""}, got); diff != "" {
			t.Errorf("list at exact rv %s, limit %d (-want +got):\n%s", b.ResourceVersion, limit, diff)
		}
	}

	// Not older than the latest write: sees everything.
	list := mustList(t, s, Prefix, storage.ListOptions{ResourceVersion: gone.ResourceVersion, Recursive: true})
	if diff := cmp.Diff([]string{"ns1/a", "ns1/c"}, names(list)); diff != "" {
		t.Errorf("list not older than %s (-want +got):\n%s", gone.ResourceVersion, diff)
	}
}

func testListInvalidContinue(t *testing.T, s storage.Interface) {
	mustCreate(t, s, configMap("ns1", "a", nil, nil))
	for _, token := range []string{"not base64!", "e30", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiIuLi8uLi9zZWNyZXRzLyJ9"} {
		err := s.GetList(testContext(t), Prefix, storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{Limit: 1, Continue: token}}, &corev1.ConfigMapList{})
		wantErr(t, "list with continue "+token, err, storage.ErrInvalidContinue)
	}
}
