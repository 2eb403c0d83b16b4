package volumes

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B": "b$(A)"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for in, want := range map[string]string{
		"plain":         "plain",
		"$(A)":          "a",
		"x$(A)y$(B)z":   "xayb$(A)z", // no recursive expansion
		"$(UNKNOWN)":    "$(UNKNOWN)",
		"$$(A)":         "$(A)",
		"$$":            "$",
		"$":             "$",
		"a$b":           "a$b",
		"$(A":           "$(A",
		"$()":           "$()",
		"$$$(A)":        "$a",
		"100$ and $(A)": "100$ and a",
	} {
		if got := Expand(in, lookup); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func envPod(c corev1.Container) *corev1.Pod {
	pod := testPod()
	pod.Spec.EnableServiceLinks = ptrTo(false)
	c.Name = "app"
	c.Resources = pod.Spec.Containers[0].Resources
	pod.Spec.Containers[0] = c
	return pod
}

func TestResolveEnvValuesAndRefs(t *testing.T) {
	m, _, _ := newTestManager(t,
		configMap("cfg", map[string]string{"LEVEL": "debug", "bad=key": "x", "1ok": "y"}),
		secret("sec", map[string]string{"PASSWORD": "hunter2"}))
	rec := record.NewFakeRecorder(10)
	m.opts.Recorder = rec
	pod := envPod(corev1.Container{
		EnvFrom: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}, Prefix: "CFG_"},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptrTo(true)}},
		},
		Env: []corev1.EnvVar{
			{Name: "HOME_DIR", Value: "/home/$(POD_NAME)"}, // not yet defined: kept
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "GREETING", Value: "hi $(POD_NAME) at $(CFG_LEVEL), $$(POD_NAME)"},
			{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "HOST_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
			{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "SA", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
			{Name: "UID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
			{Name: "TIER", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['tier']"}}},
			{Name: "MEM_MB", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "CPU_LIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}},
			{Name: "LVL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "LEVEL"}}},
			{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "PASSWORD"}}},
			{Name: "OPT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "NOPE", Optional: ptrTo(true)}}},
			{Name: "OPT2", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Key: "K", Optional: ptrTo(true)}}},
			{Name: "EMPTY"},
			{Name: "PASSWORD", Value: "override"},
		},
	})
	env, err := m.ResolveEnv(ctxT(t), pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CFG_1ok=y", "CFG_LEVEL=debug", "PASSWORD=override",
		"HOME_DIR=/home/$(POD_NAME)", "POD_NAME=web", "GREETING=hi web at debug, $(POD_NAME)",
		"NS=ns", "POD_IP=10.42.0.5", "HOST_IP=192.0.2.10", "NODE=node-1", "SA=sa", "UID=uid-1", "TIER=front",
		"MEM_MB=64", "CPU_LIMIT=4", "LVL=debug", "PW=hunter2", "EMPTY=",
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	select {
	case ev := <-rec.Events:
		want := "Warning InvalidEnvironmentVariableNames Keys [CFG_bad=key] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names."
		if ev != want {
			t.Errorf("event = %q\nwant    %q", ev, want)
		}
	default:
		t.Error("no event for the invalid key")
	}
}

func TestResolveEnvErrors(t *testing.T) {
	m, _, _ := newTestManager(t, configMap("cfg", map[string]string{"A": "1"}), secret("sec", map[string]string{"A": "1"}))
	cmRef := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}}
	}
	secRef := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}}
	}
	for _, tc := range []struct {
		c    corev1.Container
		want string
	}{
		{corev1.Container{Env: []corev1.EnvVar{cmRef("x", "A")}}, `configmap "x" not found`},
		{corev1.Container{Env: []corev1.EnvVar{cmRef("cfg", "k")}}, `couldn't find key k in ConfigMap ns/cfg`},
		{corev1.Container{Env: []corev1.EnvVar{secRef("x", "A")}}, `secret "x" not found`},
		{corev1.Container{Env: []corev1.EnvVar{secRef("sec", "k")}}, `couldn't find key k in Secret ns/sec`},
		{corev1.Container{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}, `configmap "x" not found`},
		{corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}, `secret "x" not found`},
		{corev1.Container{Env: []corev1.EnvVar{{Name: "V", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.bogus"}}}}}, `unsupported fieldPath "spec.bogus"`},
	} {
		pod := envPod(tc.c)
		_, err := m.ResolveEnv(ctxT(t), pod, &pod.Spec.Containers[0])
		if err == nil || err.Error() != tc.want {
			t.Errorf("err = %v, want %s", err, tc.want)
		}
	}
}

func service(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
}

func TestResolveEnvServiceLinks(t *testing.T) {
	m, _, _ := newTestManager(t,
		service("default", "kubernetes", "10.43.0.1", corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}),
		service("ns", "my-db", "10.43.0.20", corev1.ServicePort{Name: "sql", Port: 5432}, corev1.ServicePort{Name: "metrics", Port: 9100, Protocol: corev1.ProtocolUDP}),
		service("ns", "headless", corev1.ClusterIPNone, corev1.ServicePort{Port: 80}),
		service("other", "elsewhere", "10.43.0.30", corev1.ServicePort{Port: 80}))
	pod := testPod()
	pod.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "DB", Value: "$(MY_DB_SERVICE_HOST):$(MY_DB_SERVICE_PORT)"},
		{Name: "KUBERNETES_SERVICE_PORT", Value: "1234"},
	}
	env, err := m.ResolveEnv(ctxT(t), pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DB=10.43.0.20:5432",
		"KUBERNETES_SERVICE_PORT=1234", // explicit env wins
		"KUBERNETES_PORT=tcp://10.43.0.1:443",
		"KUBERNETES_PORT_443_TCP=tcp://10.43.0.1:443",
		"KUBERNETES_PORT_443_TCP_ADDR=10.43.0.1",
		"KUBERNETES_PORT_443_TCP_PORT=443",
		"KUBERNETES_PORT_443_TCP_PROTO=tcp",
		"KUBERNETES_SERVICE_HOST=10.43.0.1",
		"KUBERNETES_SERVICE_PORT_HTTPS=443",
		"MY_DB_PORT=tcp://10.43.0.20:5432",
		"MY_DB_PORT_5432_TCP=tcp://10.43.0.20:5432",
		"MY_DB_PORT_5432_TCP_ADDR=10.43.0.20",
		"MY_DB_PORT_5432_TCP_PORT=5432",
		"MY_DB_PORT_5432_TCP_PROTO=tcp",
		"MY_DB_PORT_9100_UDP=udp://10.43.0.20:9100",
		"MY_DB_PORT_9100_UDP_ADDR=10.43.0.20",
		"MY_DB_PORT_9100_UDP_PORT=9100",
		"MY_DB_PORT_9100_UDP_PROTO=udp",
		"MY_DB_SERVICE_HOST=10.43.0.20",
		"MY_DB_SERVICE_PORT=5432",
		"MY_DB_SERVICE_PORT_METRICS=9100",
		"MY_DB_SERVICE_PORT_SQL=5432",
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}

	// enableServiceLinks: false keeps only the API server's variables.
	pod.Spec.EnableServiceLinks = ptrTo(false)
	pod.Spec.Containers[0].Env = nil
	env, err = m.ResolveEnv(ctxT(t), pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KUBERNETES_") {
			t.Errorf("with service links off: %s", kv)
		}
	}
	if len(env) != 8 {
		t.Errorf("got %d variables, want the 8 of the kubernetes service: %v", len(env), env)
	}
}
