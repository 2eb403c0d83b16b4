//go:build linux

package realnode

import "golang.org/x/sys/unix"

func fsUsage(dir string) (fsStats, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fsStats{}, false
	}
	return fsStats{blocks: st.Blocks, blocksAvail: st.Bavail, files: st.Files, filesFree: st.Ffree, blockSize: st.Bsize}, true
}
