package realnode

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/pkg/agent/runtime/containerd"
	"github.com/tugcluster/tug/pkg/network"
)

// podNetwork is the runtime's SandboxNetwork over pkg/network. The pod
// CIDR may arrive after start (assigned by the server's node IPAM): until
// then Setup and Teardown wait for it.
type podNetwork struct {
	netnsDir string

	mu    sync.Mutex
	n     *network.Network
	ready chan struct{}
}

var _ containerd.SandboxNetwork = (*podNetwork)(nil)

func newPodNetwork(netnsDir string) *podNetwork {
	return &podNetwork{netnsDir: netnsDir, ready: make(chan struct{})}
}

// configure builds the CNI network for the node's pod CIDR; later calls
// with the same configuration are no-ops.
func (p *podNetwork) configure(cfg network.Config) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n != nil {
		if p.n.Config().PodCIDR != cfg.PodCIDR {
			return fmt.Errorf("pod CIDR changed from %s to %s: restart the agent", p.n.Config().PodCIDR, cfg.PodCIDR)
		}
		return nil
	}
	n, err := network.New(cfg)
	if err != nil {
		return err
	}
	p.n = n
	close(p.ready)
	return nil
}

// configured reports whether the pod network is set up.
func (p *podNetwork) configured() bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

func (p *podNetwork) wait(ctx context.Context) (*network.Network, error) {
	select {
	case <-p.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("pod network: waiting for this node's pod CIDR: %w", ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, nil
}

func (p *podNetwork) CreateNetNS(_ context.Context, sandboxID string) (string, error) {
	return network.CreateNetNS(p.netnsDir, sandboxID)
}

func (p *podNetwork) DeleteNetNS(_ context.Context, path string) error {
	return network.DeleteNetNS(path)
}

func (p *podNetwork) Setup(ctx context.Context, sandboxID, netnsPath string, pod *corev1.Pod) (netip.Addr, error) {
	n, err := p.wait(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	res, err := n.Setup(ctx, sandboxID, netnsPath, podInfo(pod))
	if err != nil {
		return netip.Addr{}, err
	}
	return res.IP, nil
}

func (p *podNetwork) Teardown(ctx context.Context, sandboxID, netnsPath string, pod *corev1.Pod) error {
	n, err := p.wait(ctx)
	if err != nil {
		return err
	}
	return n.Teardown(ctx, sandboxID, netnsPath, podInfo(pod))
}

// podInfo is what CNI needs of a pod: identity and hostPorts.
func podInfo(pod *corev1.Pod) network.PodInfo {
	if pod == nil {
		return network.PodInfo{}
	}
	info := network.PodInfo{Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID)}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			proto := strings.ToLower(string(port.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			info.PortMappings = append(info.PortMappings, network.PortMapping{
				HostPort: port.HostPort, ContainerPort: port.ContainerPort, Protocol: proto, HostIP: port.HostIP,
			})
		}
	}
	return info
}

// errNoPodCIDR: the Node has no spec.podCIDR yet.
var errNoPodCIDR = errors.New("no pod CIDR assigned yet")
