package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBadInputAnswers(t *testing.T) {
	ns := newNamespace(t)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	deps := "/apis/apps/v1/namespaces/" + ns + "/deployments"

	resp, body := rawRequest(t, "POST", base, "application/json", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"`))
	expectCode(t, resp, body, http.StatusBadRequest)

	resp, body = rawRequest(t, "GET", "/api/v1/namespaces/"+ns+"/widgets", "", nil)
	expectCode(t, resp, body, http.StatusNotFound)
	resp, body = rawRequest(t, "GET", "/apis/nope.example/v1/things", "", nil)
	expectCode(t, resp, body, http.StatusNotFound)

	bad := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"Bad_Name"},
		"spec":{"replicas":-2,"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"b"}},
		"spec":{"containers":[{"name":"c"}]}}}}`
	resp, body = rawRequest(t, "POST", deps, "application/json", []byte(bad))
	st := expectCode(t, resp, body, http.StatusUnprocessableEntity)
	fields := map[string]bool{}
	for _, c := range st.Details.Causes {
		fields[c.Field] = true
	}
	for _, want := range []string{"metadata.name", "spec.replicas", "spec.template.spec.containers[0].image"} {
		if !fields[want] {
			t.Errorf("422 causes lack %s: %s", want, body)
		}
	}
	resp, _ = rawRequest(t, "GET", deps+"/Bad_Name", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("invalid object was written (GET gave %d)", resp.StatusCode)
	}

	big := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":"` + strings.Repeat("x", 3*1024*1024+10) + `"}}`
	resp, body = rawRequest(t, "POST", base, "application/json", []byte(big))
	expectCode(t, resp, body, http.StatusRequestEntityTooLarge)

	resp, body = rawRequest(t, "POST", base, "application/xml", []byte(`<ConfigMap/>`))
	expectCode(t, resp, body, http.StatusUnsupportedMediaType)
	resp, body = rawRequest(t, "PATCH", base+"/x", "text/plain", []byte(`{}`))
	expectCode(t, resp, body, http.StatusUnsupportedMediaType)

	resp, body = rawRequest(t, "POST", base, "application/json", []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`))
	expectCode(t, resp, body, http.StatusBadRequest)

	resp, body = rawRequest(t, "GET", base+"?resourceVersion=abc", "", nil)
	expectCode(t, resp, body, http.StatusBadRequest)
	resp, body = rawRequest(t, "GET", base+"?limit=5&continue=garbage", "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("garbage continue: HTTP %d: %s", resp.StatusCode, body)
	}
}

func TestUnknownFieldValidation(t *testing.T) {
	ns := newNamespace(t)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	obj := func(name string) []byte {
		return []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"},"data":{"a":"b"},"bogus":1}`)
	}
	resp, body := rawRequest(t, "POST", base+"?fieldValidation=Strict", "application/json", obj("strict"))
	st := expectCode(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(st.Message, `unknown field "bogus"`) {
		t.Errorf("strict message %q does not name the field", st.Message)
	}
	resp, body = rawRequest(t, "POST", base, "application/json", obj("warn"))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(resp.Header.Get("Warning"), `unknown field \"bogus\"`) {
		t.Errorf("default Warn: HTTP %d, Warning %q: %s", resp.StatusCode, resp.Header.Get("Warning"), body)
	}
	resp, _ = rawRequest(t, "POST", base+"?fieldValidation=Ignore", "application/json", obj("ignore"))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Warning") != "" {
		t.Errorf("Ignore: HTTP %d, Warning %q", resp.StatusCode, resp.Header.Get("Warning"))
	}
	resp, body = rawRequest(t, "POST", base+"?fieldValidation=Loud", "application/json", obj("loud"))
	expectCode(t, resp, body, http.StatusBadRequest)
	yamlBody := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml\ndata:\n  a: b\n")
	resp, body = rawRequest(t, "POST", base, "application/yaml", yamlBody)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("YAML body: HTTP %d: %s", resp.StatusCode, body)
	}
}

func TestAuthentication(t *testing.T) {
	resp, body := doRequest(t, "GET", "/api/v1/namespaces", "", nil, nil)
	expectCode(t, resp, body, http.StatusUnauthorized)
	resp, body = doRequest(t, "GET", "/api/v1/namespaces", "", nil, map[string]string{"Authorization": "Bearer wrong"})
	expectCode(t, resp, body, http.StatusUnauthorized)
	resp, body = doRequest(t, "GET", "/version", "", nil, nil)
	expectCode(t, resp, body, http.StatusUnauthorized)
	resp, body = doRequest(t, "GET", "/readyz", "", nil, nil)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("/readyz: %d %q", resp.StatusCode, body)
	}
	resp, body = rawRequest(t, "GET", "/version", "", nil)
	var v map[string]string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil || v["major"] != "1" || v["gitVersion"] == "" {
		t.Errorf("/version: %d %s", resp.StatusCode, body)
	}
}

func TestDiscoveryAndTables(t *testing.T) {
	groups, resources, err := cluster.client.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, g := range groups {
		names[g.Name] = true
	}
	for _, g := range []string{"", "apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "autoscaling", "scheduling.k8s.io", "storage.k8s.io"} {
		if !names[g] {
			t.Errorf("discovery lacks group %q", g)
		}
	}
	found := map[string]bool{}
	for _, l := range resources {
		for _, r := range l.APIResources {
			found[l.GroupVersion+"/"+r.Name] = true
		}
	}
	for _, want := range []string{"v1/pods", "v1/pods/status", "v1/pods/binding", "v1/pods/eviction", "apps/v1/deployments/scale", "batch/v1/cronjobs", "v1/namespaces/finalize"} {
		if !found[want] {
			t.Errorf("discovery lacks %s", want)
		}
	}
	ns := newNamespace(t)
	if _, err := cluster.client.AppsV1().Deployments(ns).Create(ctx(t), deployment("web", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, body := doRequest(t, "GET", "/apis/apps/v1/namespaces/"+ns+"/deployments", "", nil, map[string]string{
		"Authorization": "Bearer " + adminToken,
		"Accept":        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
	var table metav1.Table
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &table) != nil {
		t.Fatalf("table: %d %s", resp.StatusCode, body)
	}
	var cols []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			cols = append(cols, c.Name)
		}
	}
	if strings.Join(cols, " ") != "Name Ready Up-to-date Available Age" {
		t.Errorf("deployment columns %v", cols)
	}
	if len(table.Rows) != 1 || table.Rows[0].Cells[0] != "web" || table.Rows[0].Cells[1] != "0/3" {
		t.Errorf("deployment rows %+v", table.Rows)
	}
}
