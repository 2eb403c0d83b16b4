package realnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tugcluster/tug/pkg/agent"
	"github.com/tugcluster/tug/pkg/agent/runtime"
)

// Thresholds of the pressure conditions: kubelet's default hard eviction
// signals (memory.available<100Mi, nodefs.available<10%,
// nodefs.inodesFree<5%).
const (
	minMemoryAvailable   = 100 << 20
	minDiskAvailablePct  = 10
	minInodesFreePercent = 5
)

// nodeHealth measures a real node for its conditions: the runtime
// answers, the pod network is set up, and memory and the data directory's
// file system are above the thresholds.
func nodeHealth(rt runtime.Runtime, pn *podNetwork, dataDir string) func(context.Context) agent.NodeHealth {
	return func(ctx context.Context) agent.NodeHealth {
		var h agent.NodeHealth
		vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := rt.Version(vctx); err != nil {
			h.RuntimeErr = err
		}
		if !pn.configured() {
			h.NetworkErr = errors.New("waiting for this node's pod CIDR")
		}
		if avail, ok := meminfo("/proc/meminfo", "MemAvailable"); ok && avail < minMemoryAvailable {
			h.MemoryPressure = fmt.Sprintf("kubelet has insufficient memory available: %d MiB available, threshold 100 MiB", avail>>20)
		}
		h.DiskPressure = diskPressure(fsUsage(dataDir))
		return h
	}
}

// fsStats are a file system's size and what is left of it.
type fsStats struct {
	blocks, blocksAvail, files, filesFree uint64
	blockSize                             int64
}

// diskPressure describes a file system below the thresholds ("" when it
// is not, or could not be measured).
func diskPressure(u fsStats, ok bool) string {
	switch {
	case !ok:
		return ""
	case u.blocks > 0 && u.blocksAvail*100 < u.blocks*minDiskAvailablePct:
		return fmt.Sprintf("kubelet has disk pressure: %d%% of the node file system available, threshold %d%%", u.blocksAvail*100/u.blocks, minDiskAvailablePct)
	case u.files > 0 && u.filesFree*100 < u.files*minInodesFreePercent:
		return fmt.Sprintf("kubelet has disk pressure: %d%% of the node file system's inodes free, threshold %d%%", u.filesFree*100/u.files, minInodesFreePercent)
	}
	return ""
}
