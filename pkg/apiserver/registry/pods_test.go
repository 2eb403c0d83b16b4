package registry

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
)

func testPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: objectMeta("web"), Spec: validPodSpec()}
}

func TestPodCreate(t *testing.T) {
	r := coreResource(t, "pods")
	pod := testPod()
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.9"}
	if errs := createErrors(r, pod); len(errs) != 0 {
		t.Fatalf("valid pod rejected: %v", errs)
	}
	want := corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
	if diff := cmp.Diff(want, pod.Status); diff != "" {
		t.Errorf("status after create (-want +got):\n%s", diff)
	}
	if pod.Spec.ServiceAccountName != "default" {
		t.Errorf("serviceAccountName %q, want default", pod.Spec.ServiceAccountName)
	}

	withEphemeral := testPod()
	withEphemeral.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Image: "busybox"}}}
	checkErrors(t, "ephemeral on create", createErrors(r, withEphemeral), []string{"spec.ephemeralContainers: Forbidden: cannot be set on create"})
}

func TestPodQOSClass(t *testing.T) {
	res := func(req, lim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{}
		if req != "" {
			r.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(req), corev1.ResourceMemory: resource.MustParse("64Mi")}
		}
		if lim != "" {
			r.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(lim), corev1.ResourceMemory: resource.MustParse("64Mi")}
		}
		return r
	}
	tests := []struct {
		name string
		res  []corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"nothing", []corev1.ResourceRequirements{{}}, corev1.PodQOSBestEffort},
		{"limits only", []corev1.ResourceRequirements{res("", "1")}, corev1.PodQOSGuaranteed},
		{"requests equal limits", []corev1.ResourceRequirements{res("1", "1"), res("500m", "500m")}, corev1.PodQOSGuaranteed},
		{"requests below limits", []corev1.ResourceRequirements{res("500m", "1")}, corev1.PodQOSBurstable},
		{"one container without limits", []corev1.ResourceRequirements{res("1", "1"), {}}, corev1.PodQOSBurstable},
		{"requests only", []corev1.ResourceRequirements{res("1", "")}, corev1.PodQOSBurstable},
	}
	for _, tt := range tests {
		pod := &corev1.Pod{}
		for i, r := range tt.res {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: string(rune('a' + i)), Image: "x", Resources: r})
		}
		defaultPod(pod)
		preparePodForCreate(pod)
		if pod.Status.QOSClass != tt.want {
			t.Errorf("%s: QoS %q, want %q", tt.name, pod.Status.QOSClass, tt.want)
		}
	}
}

func TestPodUpdate(t *testing.T) {
	r := coreResource(t, "pods")
	old := testPod()
	old.Spec.NodeName = "node-1"
	old.Spec.ActiveDeadlineSeconds = ptr.To[int64](600)
	old.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}}
	forbidden := "spec: Forbidden: " + podUpdateMessage

	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"no change", func(*corev1.Pod) {}, nil},
		{"image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"labels are metadata", func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }, nil},
		{"shorter deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](60) }, nil},
		{"longer deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](6000) },
			[]string{"spec.activeDeadlineSeconds: Invalid value: must be less than or equal to previous value"}},
		{"deadline removed", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil },
			[]string{"spec.activeDeadlineSeconds: Invalid value: must not update from a positive integer to nil value"}},
		{"toleration added", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "x", Operator: corev1.TolerationOpExists})
		}, nil},
		{"toleration seconds shortened", func(p *corev1.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptr.To[int64](10) }, nil},
		{"toleration removed", func(p *corev1.Pod) { p.Spec.Tolerations = nil },
			[]string{"spec.tolerations[0]: Forbidden: existing toleration can not be modified except its tolerationSeconds"}},
		{"node name", func(p *corev1.Pod) { p.Spec.NodeName = "node-2" },
			[]string{forbidden + "\n  changed: `spec.nodeName`"}},
		{"container port and restart policy", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports[0].ContainerPort = 81
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
		}, []string{forbidden + "\n  changed: `spec.containers`, `spec.restartPolicy`"}},
		{"invalid new image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]string{"spec.containers[0].image: Required value: "}},
	}
	for _, tt := range tests {
		pod := old.DeepCopy()
		tt.mutate(pod)
		checkErrors(t, tt.name, updateErrors(r, pod, old.DeepCopy()), tt.want)
	}
}

func TestPodStatusUpdate(t *testing.T) {
	r := coreResource(t, "pods")
	old := testPod()
	old.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
	tests := []struct {
		name   string
		status corev1.PodStatus
		want   []string
	}{
		{"running", corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.5", PodIPs: []corev1.PodIP{{IP: "10.42.0.5"}}, HostIP: "10.0.0.1"}, nil},
		{"bad phase and ip", corev1.PodStatus{Phase: "Sleeping", PodIP: "10.42.0.500"}, []string{
			`status.phase: Unsupported value: supported values: "Failed", "Pending", "Running", "Succeeded", "Unknown"`,
			"status.podIP: Invalid value: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
		}},
		{"qos changed", corev1.PodStatus{Phase: corev1.PodRunning, QOSClass: corev1.PodQOSGuaranteed},
			[]string{"status.qosClass: Invalid value: field is immutable"}},
		{"nominated node", corev1.PodStatus{Phase: corev1.PodPending, NominatedNodeName: "Node 1"},
			[]string{"status.nominatedNodeName: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}},
	}
	for _, tt := range tests {
		pod := old.DeepCopy()
		pod.Status = tt.status
		r.PrepareForStatusUpdate(pod, old)
		if tt.status.QOSClass == "" && pod.Status.QOSClass != old.Status.QOSClass {
			t.Errorf("%s: qosClass %q not kept", tt.name, pod.Status.QOSClass)
		}
		checkErrors(t, tt.name, r.ValidateStatusUpdate(pod, old), tt.want)
	}

	done := old.DeepCopy()
	done.Status.Phase = corev1.PodSucceeded
	back := done.DeepCopy()
	back.Status.Phase = corev1.PodRunning
	checkErrors(t, "terminal phase", r.ValidateStatusUpdate(back, done),
		[]string{`status.phase: Forbidden: cannot transition from terminal phase "Succeeded" to "Running"`})
}

func TestPodGracePeriod(t *testing.T) {
	r := coreResource(t, "pods")
	scheduled := testPod()
	scheduled.Spec.NodeName = "node-1"
	scheduled.Spec.TerminationGracePeriodSeconds = ptr.To[int64](45)
	tests := []struct {
		name      string
		pod       *corev1.Pod
		requested *int64
		want      int64
	}{
		{"pod's own period", scheduled, nil, 45},
		{"requested", scheduled, ptr.To[int64](5), 5},
		{"forced", scheduled, ptr.To[int64](0), 0},
		{"default 30", mutated(scheduled, func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = nil }), nil, 30},
		{"negative becomes 1", scheduled, ptr.To[int64](-5), 1},
		{"never scheduled", testPod(), nil, 0},
		{"already failed", mutated(scheduled, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), nil, 0},
		{"already succeeded", mutated(scheduled, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }), ptr.To[int64](30), 0},
	}
	for _, tt := range tests {
		if got := r.GracefulDeletion(tt.pod, tt.requested); got != tt.want {
			t.Errorf("%s: grace %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPodFields(t *testing.T) {
	r := coreResource(t, "pods")
	pod := testPod()
	defaultPod(pod)
	pod.Spec.NodeName = "node-1"
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.42.0.7"}}, NominatedNodeName: "node-2"}
	want := fields.Set{
		"spec.nodeName": "node-1", "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
		"spec.serviceAccountName": "default", "spec.hostNetwork": "false", "status.phase": "Running",
		"status.podIP": "10.42.0.7", "status.nominatedNodeName": "node-2",
	}
	if diff := cmp.Diff(want, r.Fields(pod)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestPodUpdateMessageNamesAllowedFields(t *testing.T) {
	for _, f := range []string{"`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`", "`spec.tolerations`"} {
		if !strings.Contains(podUpdateMessage, f) {
			t.Errorf("message does not mention %s", f)
		}
	}
}

func TestPodCreateAddsDefaultNodeTolerations(t *testing.T) {
	r := coreResource(t, "pods")
	pod := testPod()
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	if errs := createErrors(r, pod); len(errs) != 0 {
		t.Fatalf("valid pod rejected: %v", errs)
	}
	want := []corev1.Toleration{
		{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
	}
	if diff := cmp.Diff(want, pod.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations (-want +got):\n%s", diff)
	}

	// A pod that already tolerates the taints keeps its own choice.
	own := testPod()
	own.Spec.Tolerations = []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](5)},
		{Operator: corev1.TolerationOpExists},
	}
	wantOwn := append([]corev1.Toleration(nil), own.Spec.Tolerations...)
	createErrors(r, own)
	if diff := cmp.Diff(wantOwn, own.Spec.Tolerations); diff != "" {
		t.Errorf("own tolerations changed (-want +got):\n%s", diff)
	}
}

func TestPodDefaultTolerationSecondsIsConfigurable(t *testing.T) {
	var r *Resource
	for _, res := range AllWith(Options{DefaultTolerationSeconds: 42}) {
		if res.Group == "" && res.Name == "pods" {
			r = res
		}
	}
	pod := testPod()
	if errs := createErrors(r, pod); len(errs) != 0 {
		t.Fatalf("valid pod rejected: %v", errs)
	}
	for _, tol := range pod.Spec.Tolerations {
		if tol.TolerationSeconds == nil || *tol.TolerationSeconds != 42 {
			t.Errorf("toleration %+v, want 42 seconds", tol)
		}
	}
	if len(pod.Spec.Tolerations) != 2 {
		t.Errorf("got %d tolerations, want 2", len(pod.Spec.Tolerations))
	}
}
