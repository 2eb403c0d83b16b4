package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// validPodSpec is a defaulted spec that passes validation.
func validPodSpec() corev1.PodSpec {
	spec := corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "web", Image: "nginx:1.27",
			Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
		}},
		Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
	DefaultPodSpec(&spec)
	return spec
}

func TestValidatePodSpec(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.PodSpec)
		want   []string
	}{
		{"valid", func(*corev1.PodSpec) {}, nil},
		{"no containers", func(s *corev1.PodSpec) { s.Containers = nil }, []string{"spec.containers: Required value: "}},
		{"image required", func(s *corev1.PodSpec) { s.Containers[0].Image = "" },
			[]string{"spec.containers[0].image: Required value: "}},
		{"container name required", func(s *corev1.PodSpec) { s.Containers[0].Name = "" },
			[]string{"spec.containers[0].name: Required value: "}},
		{"container name not a DNS label", func(s *corev1.PodSpec) { s.Containers[0].Name = "Web_1" },
			[]string{"spec.containers[0].name: Invalid value: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}},
		{"duplicate names across init and regular containers", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "web", Image: "busybox", ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile}}
		}, []string{"spec.containers[0].name: Duplicate value: "}},
		{"restart policy", func(s *corev1.PodSpec) { s.RestartPolicy = "Sometimes" },
			[]string{`spec.restartPolicy: Unsupported value: supported values: "Always", "Never", "OnFailure"`}},
		{"dns policy", func(s *corev1.PodSpec) { s.DNSPolicy = "Google" },
			[]string{`spec.dnsPolicy: Unsupported value: supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"`}},
		{"dns policy None needs a config", func(s *corev1.PodSpec) { s.DNSPolicy = corev1.DNSNone },
			[]string{"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"}},
		{"container port out of range", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].ContainerPort = 70000 },
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value: must be between 1 and 65535, inclusive"}},
		{"container port missing", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].ContainerPort = 0 },
			[]string{"spec.containers[0].ports[0].containerPort: Required value: "}},
		{"port protocol", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].Protocol = "ICMP" },
			[]string{`spec.containers[0].ports[0].protocol: Unsupported value: supported values: "SCTP", "TCP", "UDP"`}},
		{"duplicate volume", func(s *corev1.PodSpec) { s.Volumes = append(s.Volumes, s.Volumes[0]) },
			[]string{"spec.volumes[1].name: Duplicate value: "}},
		{"volume without source", func(s *corev1.PodSpec) { s.Volumes[0].VolumeSource = corev1.VolumeSource{} },
			[]string{"spec.volumes[0]: Required value: must specify a volume type"}},
		{"volume with two sources", func(s *corev1.PodSpec) {
			s.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/x"}
		}, []string{"spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"}},
		{"secret volume needs a name", func(s *corev1.PodSpec) {
			s.Volumes[0].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptr.To[int32](0o1777)}}
		}, []string{
			"spec.volumes[0].secret.secretName: Required value: ",
			"spec.volumes[0].secret.defaultMode: Invalid value: must be a number between 0 and 0777 (octal), both inclusive",
		}},
		{"mount of unknown volume", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].Name = "missing" },
			[]string{"spec.containers[0].volumeMounts[0].name: Not found: "}},
		{"duplicate mount path", func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts = append(s.Containers[0].VolumeMounts, s.Containers[0].VolumeMounts[0])
		}, []string{"spec.containers[0].volumeMounts[1].mountPath: Invalid value: must be unique"}},
		{"env var names", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: ""}, {Name: "A=B"}, {Name: "my.var-1"}}
		}, []string{
			"spec.containers[0].env[0].name: Required value: ",
			"spec.containers[0].env[1].name: Invalid value: a valid environment variable name must consist only of printable ASCII characters other than '='",
		}},
		{"env value and valueFrom", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "X", Value: "1", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
			}}}
		}, []string{"spec.containers[0].env[0].valueFrom: Invalid value: may not be specified when `value` is not empty"}},
		{"env field path", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{
				{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.containers"}}},
			}
		}, []string{`spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Unsupported value: supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`}},
		{"negative quantity", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("-1Mi")}
		}, []string{"spec.containers[0].resources.limits[memory]: Invalid value: must be greater than or equal to 0"}},
		{"request above limit", func(s *corev1.PodSpec) {
			s.Containers[0].Resources = corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			}
		}, []string{"spec.containers[0].resources.requests[cpu]: Invalid value: must be less than or equal to cpu limit of 500m"}},
		{"unknown resource name", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Limits = corev1.ResourceList{"gpu": resource.MustParse("1")}
		}, []string{"spec.containers[0].resources.limits[gpu]: Invalid value: must be a standard resource type or fully qualified"}},
		{"probe without handler", func(s *corev1.PodSpec) {
			s.Containers[0].ReadinessProbe = &corev1.Probe{TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
		}, []string{"spec.containers[0].readinessProbe: Required value: must specify a handler type"}},
		{"liveness success threshold", func(s *corev1.PodSpec) {
			s.Containers[0].LivenessProbe = &corev1.Probe{
				ProbeHandler:   corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 2, FailureThreshold: 3,
			}
		}, []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value: must be 1"}},
		{"probe on init container", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				ReadinessProbe:           &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}}}
		}, []string{"spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"}},
		{"sidecar may have probes", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "proxy", Image: "envoy", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				RestartPolicy:            ptr.To(corev1.ContainerRestartPolicyAlways),
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
					TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}}}
		}, nil},
		{"tolerations", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{
				{Operator: corev1.TolerationOpExists},
				{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"},
				{Key: "k", Operator: "Maybe"},
				{Key: "k", Effect: "Sometimes"},
			}
		}, []string{
			"spec.tolerations[1].operator: Invalid value: value must be empty when `operator` is 'Exists'",
			`spec.tolerations[2].operator: Unsupported value: supported values: "Equal", "Exists"`,
			`spec.tolerations[3].effect: Unsupported value: supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"`,
		}},
		{"node selector and names", func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"bad key!": "x"}
			s.NodeName = "Node_1"
			s.ServiceAccountName = "Builder"
		}, []string{
			"spec.nodeSelector: Invalid value: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
			"spec.nodeName: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
			"spec.serviceAccountName: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
		}},
		{"active deadline", func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](0) },
			[]string{"spec.activeDeadlineSeconds: Invalid value: must be between 1 and 2147483647, inclusive"}},
	}
	for _, tt := range tests {
		spec := validPodSpec()
		tt.mutate(&spec)
		checkErrors(t, tt.name, ValidatePodSpec(&spec, field.NewPath("spec")), tt.want)
	}
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{"app": "web", "bad/key/x": "v"},
			Annotations: map[string]string{"ok": "1"},
		},
		Spec: validPodSpec(),
	}
	tmpl.Spec.Containers[0].Image = ""
	tmpl.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "busybox", ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}}}
	checkErrors(t, "template", ValidatePodTemplateSpec(&tmpl, field.NewPath("spec", "template")), []string{
		"spec.template.metadata.labels: Invalid value: a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
		"spec.template.spec.containers[0].image: Required value: ",
		"spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
	})
}
