//go:build !linux

package realnode

func fsUsage(string) (fsStats, bool) { return fsStats{}, false }
