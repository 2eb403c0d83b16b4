// Package crilog reads container log files written in the CRI format,
// one record per line: "<RFC3339Nano time> <stdout|stderr> <P|F> <text>".
// A line longer than the writer's limit is split into partial (P)
// records closed by a full (F) one; Read reassembles them.
//
// Runtimes that keep CRI log files implement runtime.LogReader with it;
// it owns parsing, since/tail selection, timestamps and following a file
// across rotation (path.1 is the previous file, path the current one).
package crilog
