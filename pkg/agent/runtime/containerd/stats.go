package containerd

import (
	"context"
	"fmt"
	"time"

	cg1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cg2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/typeurl/v2"

	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// cpuSample is a cumulative CPU time at an instant, to turn the next one
// into a rate.
type cpuSample struct {
	at    time.Time
	usage uint64 // nanoseconds
}

// ContainerStats reads the container's cgroup metrics (v1 or v2). The
// CPU rate is measured since the previous call; the first call for a
// container samples twice, 100ms apart.
func (r *Runtime) ContainerStats(ctx context.Context, id string) (runtime.Stats, error) {
	at, cpu, mem, err := r.sample(ctx, id)
	if err != nil {
		return runtime.Stats{}, err
	}
	r.mu.Lock()
	prev, ok := r.cpuLast[id]
	r.mu.Unlock()
	if !ok {
		prev = cpuSample{at: at, usage: cpu}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return runtime.Stats{}, ctx.Err()
		}
		if at, cpu, mem, err = r.sample(ctx, id); err != nil {
			return runtime.Stats{}, err
		}
	}
	r.mu.Lock()
	r.cpuLast[id] = cpuSample{at: at, usage: cpu}
	r.mu.Unlock()
	st := runtime.Stats{Timestamp: at, MemoryWorkingBytes: mem}
	if dt := at.Sub(prev.at); dt > 0 && cpu >= prev.usage {
		st.CPUUsageNanoCores = uint64(float64(cpu-prev.usage) / dt.Seconds())
	}
	return st, nil
}

// sample returns cumulative CPU nanoseconds and the working set (usage
// minus inactive file cache).
func (r *Runtime) sample(ctx context.Context, id string) (time.Time, uint64, uint64, error) {
	ctx = r.ctx(ctx)
	c, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("stats of %s: %w", id, notFound(err))
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("stats of %s: container is not running: %w", id, notFound(err))
	}
	m, err := task.Metrics(ctx)
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("stats of %s: %w", id, err)
	}
	data, err := typeurl.UnmarshalAny(m.Data)
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("stats of %s: %w", id, err)
	}
	at := time.Now()
	if m.Timestamp != nil {
		at = m.Timestamp.AsTime()
	}
	switch s := data.(type) {
	case *cg1.Metrics:
		var cpu, mem uint64
		if s.CPU != nil && s.CPU.Usage != nil {
			cpu = s.CPU.Usage.Total
		}
		if s.Memory != nil && s.Memory.Usage != nil {
			mem = workingSet(s.Memory.Usage.Usage, s.Memory.TotalInactiveFile)
		}
		return at, cpu, mem, nil
	case *cg2.Metrics:
		var cpu, mem uint64
		if s.CPU != nil {
			cpu = s.CPU.UsageUsec * 1000
		}
		if s.Memory != nil {
			mem = workingSet(s.Memory.Usage, s.Memory.InactiveFile)
		}
		return at, cpu, mem, nil
	}
	return time.Time{}, 0, 0, fmt.Errorf("stats of %s: unknown metrics type %T", id, data)
}

func workingSet(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}
