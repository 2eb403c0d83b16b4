package agent

import (
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeState is what the agent remembers of its Node and Lease between
// heartbeats, so a heartbeat normally costs one write and no read.
type nodeState struct {
	node       *corev1.Node // last written or read
	lastReport time.Time
	lease      leaseState
}

// Standard labels the agent sets.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelOS       = "kubernetes.io/os"
	LabelArch     = "kubernetes.io/arch"
)

var (
	systemInfoOnce sync.Once
	systemInfo     corev1.NodeSystemInfo
)

// hostSystemInfo reads the kernel and OS once per process; simulated
// nodes share it.
func hostSystemInfo() corev1.NodeSystemInfo {
	systemInfoOnce.Do(func() {
		systemInfo = corev1.NodeSystemInfo{
			OperatingSystem: goruntime.GOOS,
			Architecture:    goruntime.GOARCH,
			KernelVersion:   "unknown",
			OSImage:         "unknown",
		}
		if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
			systemInfo.KernelVersion = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile("/etc/os-release"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
					systemInfo.OSImage = strings.Trim(v, `"`)
				}
			}
		}
	})
	return systemInfo
}

// desiredNode is the Node as this agent describes it: labels, podCIDR,
// capacity, addresses, nodeInfo (with the runtime version h measured) and
// the conditions h gives, transition times kept from old.
func (a *Agent) desiredNode(h measured, old []corev1.NodeCondition) *corev1.Node {
	info := hostSystemInfo()
	if a.opts.SystemInfo != nil {
		info = *a.opts.SystemInfo
	}
	info.ContainerRuntimeVersion = h.runtimeVersion
	info.KubeletVersion = KubeletVersion
	info.MachineID, info.SystemUUID, info.BootID = "", "", ""
	labels := map[string]string{
		LabelHostname: a.opts.NodeName,
		LabelOS:       info.OperatingSystem,
		LabelArch:     info.Architecture,
	}
	for k, v := range a.opts.Labels {
		labels[k] = v
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: a.opts.NodeName, Labels: labels},
		Status: corev1.NodeStatus{
			Capacity:    a.opts.Capacity.DeepCopy(),
			Allocatable: a.opts.Capacity.DeepCopy(),
			Addresses:   append([]corev1.NodeAddress{}, a.opts.Addresses...),
			NodeInfo:    info,
			DaemonEndpoints: corev1.NodeDaemonEndpoints{
				KubeletEndpoint: corev1.DaemonEndpoint{Port: a.opts.KubeletPort},
			},
		},
	}
	if !hasAddress(n.Status.Addresses, corev1.NodeHostName) {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: a.opts.NodeName})
	}
	if a.opts.PodCIDR != "" {
		n.Spec.PodCIDR = a.opts.PodCIDR
		n.Spec.PodCIDRs = []string{a.opts.PodCIDR}
	}
	n.Status.Conditions = a.nodeConditions(old, h.NodeHealth)
	return n
}

func hasAddress(addrs []corev1.NodeAddress, t corev1.NodeAddressType) bool {
	for _, a := range addrs {
		if a.Type == t {
			return true
		}
	}
	return false
}

// register creates the Node, or brings an existing one up to date.
func (a *Agent) register(ctx context.Context) error {
	want := a.desiredNode(a.measure(ctx), nil)
	nodes := a.client.CoreV1().Nodes()
	created, err := nodes.Create(ctx, want, metav1.CreateOptions{})
	if err == nil {
		// Servers that ignore status on create get it written now.
		a.node.node, a.node.lastReport = created, a.now()
		return a.postStatus(ctx, false)
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register node %s: %w", a.opts.NodeName, err)
	}
	cur, err := nodes.Get(ctx, a.opts.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("register node %s: %w", a.opts.NodeName, err)
	}
	upd := cur.DeepCopy()
	if upd.Labels == nil {
		upd.Labels = map[string]string{}
	}
	for k, v := range want.Labels {
		upd.Labels[k] = v
	}
	if upd.Spec.PodCIDR == "" && want.Spec.PodCIDR != "" {
		upd.Spec.PodCIDR, upd.Spec.PodCIDRs = want.Spec.PodCIDR, want.Spec.PodCIDRs
	}
	if !apiequality.Semantic.DeepEqual(upd.ObjectMeta, cur.ObjectMeta) || !apiequality.Semantic.DeepEqual(upd.Spec, cur.Spec) {
		if upd, err = nodes.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("register node %s: %w", a.opts.NodeName, err)
		}
	}
	a.node.node = upd
	return a.postStatus(ctx, true)
}

func (a *Agent) registerWithRetry(ctx context.Context) error {
	delay := 100 * time.Millisecond
	for {
		err := a.register(ctx)
		if err == nil {
			return nil
		}
		a.opts.Logger.Warn("register node", "node", a.opts.NodeName, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("register node %s: %w", a.opts.NodeName, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// postStatus writes the node status when it changed, or when force is
// set, or when the last report is older than StatusReportInterval.
func (a *Agent) postStatus(ctx context.Context, force bool) error {
	cur := a.node.node
	want := a.desiredNode(a.measure(ctx), cur.Status.Conditions)
	next := cur.DeepCopy()
	next.Status.Capacity = want.Status.Capacity
	next.Status.Allocatable = want.Status.Allocatable
	next.Status.Addresses = want.Status.Addresses
	next.Status.NodeInfo = want.Status.NodeInfo
	next.Status.DaemonEndpoints = want.Status.DaemonEndpoints
	next.Status.Conditions = mergeNodeConditions(cur.Status.Conditions, want.Status.Conditions)
	changed := !apiequality.Semantic.DeepEqual(withoutHeartbeats(next.Status), withoutHeartbeats(cur.Status))
	if !changed && !force && a.now().Sub(a.node.lastReport) < a.opts.StatusReportInterval {
		return nil
	}
	updated, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			// Someone else wrote the Node (labels, taints) or removed
			// it: read or re-create it before the next attempt.
			if err2 := a.refreshNode(ctx); err2 != nil {
				return fmt.Errorf("update node status: %w", err2)
			}
		}
		return fmt.Errorf("update node %s status: %w", a.opts.NodeName, err)
	}
	a.node.node, a.node.lastReport = updated, a.now()
	return nil
}

func (a *Agent) refreshNode(ctx context.Context) error {
	cur, err := a.client.CoreV1().Nodes().Get(ctx, a.opts.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return a.register(ctx)
	}
	if err != nil {
		return err
	}
	a.node.node = cur
	return nil
}

// mergeNodeConditions replaces the agent's condition types and keeps
// conditions others own.
func mergeNodeConditions(cur, mine []corev1.NodeCondition) []corev1.NodeCondition {
	out := append([]corev1.NodeCondition{}, mine...)
	for _, c := range cur {
		owned := false
		for _, m := range mine {
			owned = owned || m.Type == c.Type
		}
		if !owned {
			out = append(out, c)
		}
	}
	return out
}

func withoutHeartbeats(s corev1.NodeStatus) corev1.NodeStatus {
	s.Conditions = append([]corev1.NodeCondition{}, s.Conditions...)
	for i := range s.Conditions {
		s.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	return s
}
