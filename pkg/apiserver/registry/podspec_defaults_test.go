package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestDefaultPullPolicy(t *testing.T) {
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.27", corev1.PullIfNotPresent},
		{"registry.local:5000/app", corev1.PullAlways},
		{"registry.local:5000/app:v2", corev1.PullIfNotPresent},
		{"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
		{"nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", corev1.PullAlways},
	}
	for _, tt := range tests {
		if got := defaultPullPolicy(tt.image); got != tt.want {
			t.Errorf("image %q: pull policy %q, want %q", tt.image, got, tt.want)
		}
	}
}

func TestDefaultPodSpec(t *testing.T) {
	spec := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1.36"}},
		Containers: []corev1.Container{{
			Name:  "web",
			Image: "nginx",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)},
			}},
			Env: []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "scratch"},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}},
			{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			}}}},
		},
	}
	DefaultPodSpec(&spec)

	if spec.RestartPolicy != corev1.RestartPolicyAlways || spec.DNSPolicy != corev1.DNSClusterFirst ||
		spec.SchedulerName != "default-scheduler" || spec.SecurityContext == nil ||
		spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds != 30 {
		t.Errorf("pod-level defaults not applied: %+v", spec)
	}
	// Templates keep these unset: Kubernetes sets them on pods only.
	if spec.EnableServiceLinks != nil || spec.ServiceAccountName != "" || spec.Containers[0].Resources.Requests != nil {
		t.Errorf("pod-only defaults applied to a spec: links=%v sa=%q requests=%v",
			spec.EnableServiceLinks, spec.ServiceAccountName, spec.Containers[0].Resources.Requests)
	}

	c := spec.Containers[0]
	if c.ImagePullPolicy != corev1.PullAlways || c.TerminationMessagePath != "/dev/termination-log" ||
		c.TerminationMessagePolicy != corev1.TerminationMessageReadFile {
		t.Errorf("container defaults: %+v", c)
	}
	if spec.InitContainers[0].ImagePullPolicy != corev1.PullIfNotPresent || spec.InitContainers[0].TerminationMessagePath == "" {
		t.Errorf("init container defaults: %+v", spec.InitContainers[0])
	}
	if c.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("port protocol %q, want TCP", c.Ports[0].Protocol)
	}
	wantProbe := &corev1.Probe{
		ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), Scheme: corev1.URISchemeHTTP}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
	}
	if diff := cmp.Diff(wantProbe, c.LivenessProbe); diff != "" {
		t.Errorf("probe defaults (-want +got):\n%s", diff)
	}
	if got := c.Env[0].ValueFrom.FieldRef.APIVersion; got != "v1" {
		t.Errorf("fieldRef apiVersion %q, want v1", got)
	}

	v := spec.Volumes
	if v[0].EmptyDir == nil {
		t.Errorf("volume without source: %+v, want emptyDir", v[0].VolumeSource)
	}
	if ptr.Deref(v[1].ConfigMap.DefaultMode, 0) != 0o644 || ptr.Deref(v[2].Secret.DefaultMode, 0) != 0o644 {
		t.Errorf("defaultMode: configMap %v, secret %v, want 0644", v[1].ConfigMap.DefaultMode, v[2].Secret.DefaultMode)
	}
	if v[3].HostPath.Type == nil || *v[3].HostPath.Type != corev1.HostPathUnset {
		t.Errorf("hostPath type %v, want \"\"", v[3].HostPath.Type)
	}
	if ptr.Deref(v[4].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds, 0) != 3600 ||
		ptr.Deref(v[4].Projected.DefaultMode, 0) != 0o644 {
		t.Errorf("projected defaults: %+v", v[4].Projected)
	}

	// Defaulting twice changes nothing.
	again := spec.DeepCopy()
	DefaultPodSpec(again)
	if diff := cmp.Diff(&spec, again); diff != "" {
		t.Errorf("second defaulting changed the spec (-first +second):\n%s", diff)
	}
}

func TestDefaultPodSpecServiceAccountAlias(t *testing.T) {
	spec := corev1.PodSpec{DeprecatedServiceAccount: "builder"}
	DefaultPodSpec(&spec)
	if spec.ServiceAccountName != "builder" || spec.DeprecatedServiceAccount != "builder" {
		t.Errorf("serviceAccountName %q, serviceAccount %q, want both builder", spec.ServiceAccountName, spec.DeprecatedServiceAccount)
	}
}

func TestDefaultPodOnlyDefaults(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{
			Name: "web", Image: "nginx:1.27",
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
			},
		}},
	}}
	defaultPod(pod)
	c := pod.Spec.Containers[0]
	wantRequests := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
	if !equalResourceLists(c.Resources.Requests, wantRequests) {
		t.Errorf("requests %v, want %v", c.Resources.Requests, wantRequests)
	}
	wantResize := []corev1.ContainerResizePolicy{
		{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired},
		{ResourceName: corev1.ResourceMemory, RestartPolicy: corev1.NotRequired},
	}
	if diff := cmp.Diff(wantResize, c.ResizePolicy); diff != "" {
		t.Errorf("resize policy (-want +got):\n%s", diff)
	}
	if c.Ports[0].HostPort != 8080 {
		t.Errorf("host network hostPort %d, want 8080", c.Ports[0].HostPort)
	}
	if !ptr.Deref(pod.Spec.EnableServiceLinks, false) {
		t.Errorf("enableServiceLinks %v, want true", pod.Spec.EnableServiceLinks)
	}
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("service account %q/%q, want default", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
}

func equalResourceLists(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}
