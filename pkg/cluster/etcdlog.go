package cluster

import (
	"context"
	"log/slog"
	"sort"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benignEtcdMessages are warnings and errors a healthy embedded member logs
// on every start; they describe choices tug makes on purpose (one member,
// loopback only) and are logged at debug level.
var benignEtcdMessages = map[string]bool{
	"Running http and grpc server on single port. This is not recommended for production.": true,
	"simple token is not cryptographically signed":                                         true,
	"failed to update storage version":                                                     true,
	"Failed to detect schema version":                                                      true,
}

// etcdLog forwards embedded etcd's zap logs to slog so the server writes one
// log format. etcd's info lines are routine chatter and become debug;
// warnings and errors keep their level, except the benign ones and
// everything logged once shutdown began (listeners closing are reported as
// errors by etcd).
type etcdLog struct {
	log      *slog.Logger
	stopping atomic.Bool
}

func newEtcdLog(log *slog.Logger) *etcdLog {
	return &etcdLog{log: log.With("component", "etcd")}
}

// logger returns the zap logger to hand to etcd.
func (l *etcdLog) logger() *zap.Logger { return zap.New(&slogCore{etcdLog: l}) }

// shuttingDown demotes everything etcd logs from now on to debug.
func (l *etcdLog) shuttingDown() { l.stopping.Store(true) }

func (l *etcdLog) level(e zapcore.Entry) slog.Level {
	switch {
	case e.Level < zapcore.WarnLevel, l.stopping.Load(), benignEtcdMessages[e.Message]:
		return slog.LevelDebug
	case e.Level == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

type slogCore struct {
	*etcdLog
	fields []zapcore.Field
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	return c.log.Enabled(context.Background(), c.level(zapcore.Entry{Level: l}))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{etcdLog: c.etcdLog, fields: append(append([]zapcore.Field{}, c.fields...), fields...)}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.log.Enabled(context.Background(), c.level(e)) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	c.log.LogAttrs(context.Background(), c.level(e), e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }
