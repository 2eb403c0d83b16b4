package registry

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func nodesResource() *Resource {
	return &Resource{
		Version: "v1", Name: "nodes", Singular: "node", Kind: "Node",
		ShortNames: []string{"no"},
		New:        func() runtime.Object { return &corev1.Node{} },
		NewList:    func() runtime.Object { return &corev1.NodeList{} },
		// Nodes may set their status on create (the agent registers with
		// its capacity and addresses).
		Status:             true,
		KeepStatusOnCreate: true,
		NoGeneration:       true,

		Default:              typedMutate(defaultNode),
		Validate:             typedValidate(validateNode),
		ValidateUpdate:       typedValidateUpdate(validateNodeUpdate),
		ValidateStatusUpdate: typedValidateUpdate(func(n, _ *corev1.Node) field.ErrorList { return validateNodeStatus(n) }),
		Fields: typedFields(func(n *corev1.Node) fields.Set {
			return fields.Set{"spec.unschedulable": boolField(n.Spec.Unschedulable)}
		}),
		Table: nodeTable(),
	}
}

func defaultNode(n *corev1.Node) {
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = n.Status.Capacity.DeepCopy()
	}
	defaultResourceList(n.Status.Capacity)
	defaultResourceList(n.Status.Allocatable)
}

func validateNode(n *corev1.Node) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := validateTaints(n.Spec.Taints, specPath.Child("taints"))
	if n.Spec.PodCIDR != "" {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("podCIDR"), n.Spec.PodCIDR)...)
	}
	for i, cidr := range n.Spec.PodCIDRs {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("podCIDRs").Index(i), cidr)...)
	}
	if len(n.Spec.PodCIDRs) > 0 && n.Spec.PodCIDR != n.Spec.PodCIDRs[0] {
		errs = append(errs, field.Invalid(specPath.Child("podCIDRs").Index(0), n.Spec.PodCIDRs[0], "must match `podCIDR` when set"))
	}
	if len(n.Spec.PodCIDRs) > 2 {
		errs = append(errs, field.Invalid(specPath.Child("podCIDRs"), n.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
	}
	errs = append(errs, validateNodeStatus(n)...)
	return errs
}

func validateTaints(taints []corev1.Taint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, t := range taints {
		tp := p.Index(i)
		for _, msg := range validation.IsQualifiedName(t.Key) {
			errs = append(errs, field.Invalid(tp.Child("key"), t.Key, msg))
		}
		for _, msg := range validation.IsValidLabelValue(t.Value) {
			errs = append(errs, field.Invalid(tp.Child("value"), t.Value, msg))
		}
		errs = append(errs, validateTaintEffect(t.Effect, tp.Child("effect"))...)
		key := t.Key + "/" + string(t.Effect)
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(tp, "taints must be unique by key and effect pair"))
		}
		seen.Insert(key)
	}
	return errs
}

func validateNodeStatus(n *corev1.Node) field.ErrorList {
	status := field.NewPath("status")
	errs := validateResourceList(n.Status.Capacity, status.Child("capacity"))
	errs = append(errs, validateResourceList(n.Status.Allocatable, status.Child("allocatable"))...)
	for i, a := range n.Status.Addresses {
		errs = append(errs, validateEnum(a.Type, status.Child("addresses").Index(i).Child("type"),
			corev1.NodeExternalDNS, corev1.NodeExternalIP, corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeInternalIP)...)
	}
	return errs
}

// validateNodeUpdate lets podCIDR(s) and providerID be set once; labels,
// taints, unschedulable and status are free to change.
func validateNodeUpdate(n, old *corev1.Node) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := validateNode(n)
	if old.Spec.PodCIDR != "" && n.Spec.PodCIDR != old.Spec.PodCIDR {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if len(old.Spec.PodCIDRs) > 0 && !equalStrings(n.Spec.PodCIDRs, old.Spec.PodCIDRs) {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if old.Spec.ProviderID != "" && n.Spec.ProviderID != old.Spec.ProviderID {
		errs = append(errs, field.Forbidden(specPath.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func nodeTable() *Table {
	return &Table{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			tableColumn("Status", "string", "The status of the node", 0),
			tableColumn("Roles", "string", "The roles of the node", 0),
			ageColumn(),
			tableColumn("Version", "string", "Kubelet Version reported by the node.", 0),
			tableColumn("Internal-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
			tableColumn("External-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
			tableColumn("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
			tableColumn("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
			tableColumn("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
		},
		Row: tableRow(nodeRow),
	}
}

func nodeRow(n *corev1.Node) []any {
	info := n.Status.NodeInfo
	return []any{
		n.Name,
		nodeStatus(n),
		joinOrNone(nodeRoles(n)),
		formatAge(n.CreationTimestamp),
		info.KubeletVersion,
		nodeAddress(n, corev1.NodeInternalIP),
		nodeAddress(n, corev1.NodeExternalIP),
		orUnknown(info.OSImage),
		orUnknown(info.KernelVersion),
		orUnknown(info.ContainerRuntimeVersion),
	}
}

func orUnknown(s string) string {
	if s == "" {
		return unknownCell
	}
	return s
}

// nodeStatus renders STATUS: Ready, NotReady or Unknown from the Ready
// condition, with ",SchedulingDisabled" for a cordoned node.
func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		switch c.Status {
		case corev1.ConditionTrue:
			status = "Ready"
		case corev1.ConditionFalse:
			status = "NotReady"
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles reads roles from node-role.kubernetes.io/<role> labels and
// the older kubernetes.io/role=<role> label.
func nodeRoles(n *corev1.Node) []string {
	roles := sets.New[string]()
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if role := strings.TrimPrefix(k, "node-role.kubernetes.io/"); role != "" {
				roles.Insert(role)
			}
		case k == "kubernetes.io/role" && v != "":
			roles.Insert(v)
		}
	}
	list := roles.UnsortedList()
	sort.Strings(list)
	return list
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return noneCell
}
