package cli

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/tugcluster/tug/pkg/cluster"
)

// These types implement pflag.Value so a bad value fails while flags are
// parsed, with cobra naming the flag: invalid argument "x" for "--service-cidr".

type prefixValue struct{ p *netip.Prefix }

func (v prefixValue) String() string {
	if v.p == nil || !v.p.IsValid() {
		return ""
	}
	return v.p.String()
}

func (v prefixValue) Set(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Errorf("not a CIDR (want e.g. 10.43.0.0/16)")
	}
	if p != p.Masked() {
		return fmt.Errorf("host bits set (did you mean %s?)", p.Masked())
	}
	*v.p = p
	return nil
}

func (prefixValue) Type() string { return "cidr" }

type portRangeValue struct{ r *cluster.PortRange }

func (v portRangeValue) String() string { return v.r.String() }

func (v portRangeValue) Set(s string) error {
	r, err := cluster.ParsePortRange(s)
	if err != nil {
		return err
	}
	*v.r = r
	return nil
}

func (portRangeValue) Type() string { return "range" }

type levelValue struct{ l *slog.Level }

func (v levelValue) String() string { return v.l.String() }

func (v levelValue) Set(s string) error {
	if err := v.l.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("want debug, info, warn or error")
	}
	return nil
}

func (levelValue) Type() string { return "level" }
