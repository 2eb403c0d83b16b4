package probes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

func (p *Prober) exec(ctx context.Context, t Target, cmd []string, timeout time.Duration) Outcome {
	if p.execer == nil {
		return unknown("exec probes are not supported by this runtime")
	}
	res, err := p.execer.ExecSync(ctx, t.ContainerID, cmd, timeout)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return failure("command %q timed out", strings.Join(cmd, " "))
		}
		return unknown("exec %q: %v", strings.Join(cmd, " "), err)
	}
	out := string(res.Stdout) + string(res.Stderr)
	if res.ExitCode != 0 {
		if out == "" {
			out = fmt.Sprintf("command %q exited with %d", strings.Join(cmd, " "), res.ExitCode)
		}
		return Outcome{Result: Failure, Message: out}
	}
	return Outcome{Result: Success, Message: out}
}
