package fake

import (
	"fmt"
	"math/bits"
	"net/netip"
)

// ipPool hands out pod addresses from a CIDR. The network address, the
// first host address (the bridge's, as host-local reserves it) and the
// broadcast address are never handed out.
type ipPool struct {
	prefix netip.Prefix
	used   []uint64 // bit i: offset i from the network address
	size   int
	next   int // where the next search starts, so addresses rotate
}

func newIPPool(p netip.Prefix) (*ipPool, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return nil, fmt.Errorf("pod CIDR %q: want an IPv4 CIDR", p)
	}
	hostBits := 32 - p.Bits()
	if hostBits < 2 || hostBits > 16 {
		return nil, fmt.Errorf("pod CIDR %s: want a prefix length between /16 and /30", p)
	}
	size := 1 << hostBits
	pool := &ipPool{prefix: p.Masked(), used: make([]uint64, (size+63)/64), size: size, next: 2}
	pool.mark(0)
	pool.mark(1)
	pool.mark(size - 1)
	return pool, nil
}

func (p *ipPool) mark(i int)        { p.used[i/64] |= 1 << (i % 64) }
func (p *ipPool) clear(i int)       { p.used[i/64] &^= 1 << (i % 64) }
func (p *ipPool) isUsed(i int) bool { return p.used[i/64]&(1<<(i%64)) != 0 }

// allocate returns a free address.
func (p *ipPool) allocate() (string, error) {
	for n := 0; n < p.size; n++ {
		i := (p.next + n) % p.size
		if p.used[i/64] == ^uint64(0) {
			// Skip to the next word; the loop's n++ adds one more.
			skip := 63 - i%64
			n += skip
			continue
		}
		if !p.isUsed(i) {
			p.mark(i)
			p.next = (i + 1) % p.size
			return p.addr(i).String(), nil
		}
	}
	return "", fmt.Errorf("no free pod address in %s", p.prefix)
}

// release returns ip to the pool; addresses outside it are ignored.
func (p *ipPool) release(ip string) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !p.prefix.Contains(a) {
		return
	}
	i := p.offset(a)
	if i > 1 && i < p.size-1 {
		p.clear(i)
	}
}

// free counts unallocated addresses.
func (p *ipPool) free() int {
	n := 0
	for _, w := range p.used {
		n += 64 - bits.OnesCount64(w)
	}
	return n - (len(p.used)*64 - p.size)
}

func (p *ipPool) addr(i int) netip.Addr {
	b := p.prefix.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(i)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (p *ipPool) offset(a netip.Addr) int {
	b, n := a.As4(), p.prefix.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	base := uint32(n[0])<<24 | uint32(n[1])<<16 | uint32(n[2])<<8 | uint32(n[3])
	return int(v - base)
}
