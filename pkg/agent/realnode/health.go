package realnode

import (
	"context"
	"errors"
	"fmt"

	"github.com/tugcluster/tug/pkg/agent"
)

// Thresholds of the pressure conditions: kubelet's default hard eviction
// signals (memory.available<100Mi, nodefs.available<10%,
// nodefs.inodesFree<5%).
const (
	minMemoryAvailable   = 100 << 20
	minDiskAvailablePct  = 10
	minInodesFreePercent = 5
)

// nodeHealth measures a real node for its conditions: the pod network is
// set up, and memory and the data directory's file system are above the
// thresholds. (Whether the runtime answers the agent measures itself.)
func nodeHealth(pn *podNetwork, dataDir string) func(context.Context) agent.NodeHealth {
	return func(context.Context) agent.NodeHealth {
		var h agent.NodeHealth
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
