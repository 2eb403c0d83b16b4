package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testNode() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
		Spec:       corev1.NodeSpec{PodCIDR: "10.42.1.0/24", PodCIDRs: []string{"10.42.1.0/24"}},
		Status: corev1.NodeStatus{
			Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourcePods: resource.MustParse("110")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}, {Type: corev1.NodeHostName, Address: "node-1"}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 13", KernelVersion: "6.12.0",
				ContainerRuntimeVersion: "containerd://1.6.20"},
		},
	}
}

func TestNodeCreateKeepsStatus(t *testing.T) {
	r := coreResource(t, "nodes")
	n := testNode()
	if errs := createErrors(r, n); len(errs) != 0 {
		t.Fatalf("valid node rejected: %v", errs)
	}
	if n.Status.Addresses == nil || !equalResourceLists(n.Status.Allocatable, n.Status.Capacity) {
		t.Errorf("status after create: %+v (allocatable should default to capacity)", n.Status)
	}
}

func TestNodeValidation(t *testing.T) {
	r := coreResource(t, "nodes")
	tests := []struct {
		name   string
		mutate func(*corev1.Node)
		want   []string
	}{
		{"taints", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{
				{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule},
				{Key: "dedicated", Value: "web", Effect: corev1.TaintEffectNoSchedule},
				{Key: "x", Effect: "Never"},
			}
		}, []string{
			"spec.taints[1]: Duplicate value: ",
			`spec.taints[2].effect: Unsupported value: supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"`,
		}},
		{"pod CIDR", func(n *corev1.Node) { n.Spec.PodCIDR = "10.42.1.0/33"; n.Spec.PodCIDRs = nil },
			[]string{"spec.podCIDR: Invalid value: must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"}},
		{"negative capacity", func(n *corev1.Node) {
			n.Status.Capacity[corev1.ResourceMemory] = resource.MustParse("-1")
			n.Status.Allocatable = corev1.ResourceList{}
		}, []string{"status.capacity[memory]: Invalid value: must be greater than or equal to 0"}},
	}
	for _, tt := range tests {
		n := testNode()
		tt.mutate(n)
		checkErrors(t, tt.name, createErrors(r, n), tt.want)
	}

	old := testNode()
	old.Spec.ProviderID = "tug://node-1"
	update := func(mutate func(*corev1.Node)) []string {
		n := old.DeepCopy()
		mutate(n)
		return errorSummaries(updateErrors(r, n, old.DeepCopy()))
	}
	if errs := update(func(n *corev1.Node) { n.Spec.Unschedulable = true; n.Labels["zone"] = "a" }); len(errs) != 0 {
		t.Errorf("cordon rejected: %v", errs)
	}
	checkErrors(t, "pod CIDR change", updateErrors(r, mutated(old, func(n *corev1.Node) {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.42.2.0/24", []string{"10.42.2.0/24"}
	}), old.DeepCopy()), []string{
		"spec.podCIDR: Forbidden: node updates may not change podCIDR except from \"\" to valid",
		"spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid",
	})
	checkErrors(t, "provider change", updateErrors(r, mutated(old, func(n *corev1.Node) { n.Spec.ProviderID = "other" }), old.DeepCopy()),
		[]string{"spec.providerID: Forbidden: node updates may not change providerID except from \"\" to valid"})
}

func TestNodeTableAndFields(t *testing.T) {
	r := coreResource(t, "nodes")
	want := []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP*", "EXTERNAL-IP*", "OS-IMAGE*", "KERNEL-VERSION*", "CONTAINER-RUNTIME*"}
	if diff := cmp.Diff(want, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	n := testNode()
	checkRow(t, r, n, []any{"node-1", "Ready", "control-plane", "AGE", "v1.37.2", "10.0.0.5", "<none>", "Debian GNU/Linux 13", "6.12.0", "containerd://1.6.20"})

	cordoned := mutated(n, func(n *corev1.Node) {
		n.Spec.Unschedulable = true
		n.Status.Conditions[0].Status = corev1.ConditionFalse
		n.Labels = map[string]string{"kubernetes.io/role": "worker", "node-role.kubernetes.io/edge": ""}
	})
	checkRow(t, r, cordoned, []any{"node-1", "NotReady,SchedulingDisabled", "edge,worker", "AGE", "v1.37.2", "10.0.0.5", "<none>", "Debian GNU/Linux 13", "6.12.0", "containerd://1.6.20"})

	bare := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "new"}}
	checkRow(t, r, bare, []any{"new", "Unknown", "<none>", "AGE", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"})

	if got := r.Fields(cordoned)["spec.unschedulable"]; got != "true" {
		t.Errorf("spec.unschedulable field %q, want true", got)
	}
}
