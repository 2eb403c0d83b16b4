package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// serveSummary answers /stats/summary in the kubelet's Summary form: the
// running containers of ready sandboxes, summed per pod and for the node.
func (s *Server) serveSummary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.summary(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	data, err := json.Marshal(sum)
	if err != nil {
		writeError(w, fmt.Errorf("encode summary: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

func (s *Server) summary(ctx context.Context) (*statsapi.Summary, error) {
	now := metav1.NewTime(s.cfg.Now())
	sum := &statsapi.Summary{
		Node: statsapi.NodeStats{NodeName: s.cfg.NodeName, StartTime: metav1.NewTime(s.started)},
		Pods: []statsapi.PodStats{},
	}
	provider, _ := s.cfg.Runtime.(runtime.StatsProvider)
	sandboxes, err := s.cfg.Runtime.ListPodSandboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	var nodeCPU, nodeMem uint64
	for _, sb := range sandboxes {
		if sb.State != runtime.SandboxReady {
			continue
		}
		cs, err := s.cfg.Runtime.ListContainers(ctx, sb.ID)
		if err != nil {
			return nil, fmt.Errorf("list containers of %s/%s: %w", sb.Namespace, sb.Name, err)
		}
		pod := statsapi.PodStats{
			PodRef:     statsapi.PodReference{Name: sb.Name, Namespace: sb.Namespace, UID: sb.PodUID},
			StartTime:  metav1.NewTime(sb.CreatedAt),
			Containers: []statsapi.ContainerStats{},
		}
		var podCPU, podMem uint64
		measured := false
		for _, c := range cs {
			if c.State != runtime.ContainerRunning {
				continue
			}
			cstats := statsapi.ContainerStats{Name: c.Name, StartTime: metav1.NewTime(c.StartedAt)}
			if provider != nil {
				st, err := provider.ContainerStats(ctx, c.ID)
				if err != nil {
					// A container that exits meanwhile has no stats; skip it.
					s.cfg.Logger.Debug("container stats", "container", c.ID, "err", err)
				} else {
					t := metav1.NewTime(st.Timestamp)
					cpu, mem := st.CPUUsageNanoCores, st.MemoryWorkingBytes
					cstats.CPU = &statsapi.CPUStats{Time: t, UsageNanoCores: &cpu}
					cstats.Memory = &statsapi.MemoryStats{Time: t, WorkingSetBytes: &mem}
					podCPU, podMem, measured = podCPU+cpu, podMem+mem, true
				}
			}
			pod.Containers = append(pod.Containers, cstats)
		}
		sort.Slice(pod.Containers, func(i, j int) bool { return pod.Containers[i].Name < pod.Containers[j].Name })
		if measured {
			cpu, mem := podCPU, podMem
			pod.CPU = &statsapi.CPUStats{Time: now, UsageNanoCores: &cpu}
			pod.Memory = &statsapi.MemoryStats{Time: now, WorkingSetBytes: &mem}
		}
		nodeCPU, nodeMem = nodeCPU+podCPU, nodeMem+podMem
		sum.Pods = append(sum.Pods, pod)
	}
	sort.Slice(sum.Pods, func(i, j int) bool {
		a, b := sum.Pods[i].PodRef, sum.Pods[j].PodRef
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	if provider != nil {
		sum.Node.CPU = &statsapi.CPUStats{Time: now, UsageNanoCores: &nodeCPU}
		sum.Node.Memory = &statsapi.MemoryStats{Time: now, WorkingSetBytes: &nodeMem}
	}
	return sum, nil
}
