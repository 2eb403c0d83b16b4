//go:build !linux

package realnode

func fsSize(string) (int64, bool) { return 0, false }

func fsUsage(string) (fsStats, bool) { return fsStats{}, false }
