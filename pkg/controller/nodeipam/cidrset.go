package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// ErrFull is returned when every node range is taken.
var ErrFull = errors.New("no node CIDR left in the pod network")

// maxSubnetBits bounds how many node ranges one pool may have (2^20).
const maxSubnetBits = 20

// cidrSet hands out the subnets of one prefix. Not safe for concurrent use.
type cidrSet struct {
	base     netip.Prefix
	maskSize int
	count    int
	used     []uint64
	inUse    int
	next     int // where the next search starts, so freed ranges are reused last
}

// newCIDRSet splits base into /maskSize subnets.
func newCIDRSet(base netip.Prefix, maskSize int) (*cidrSet, error) {
	base = base.Masked()
	if !base.IsValid() {
		return nil, errors.New("invalid pod CIDR")
	}
	if maskSize < base.Bits() || maskSize > base.Addr().BitLen() {
		return nil, fmt.Errorf("node CIDR mask /%d does not fit in pod CIDR %s", maskSize, base)
	}
	if maskSize-base.Bits() > maxSubnetBits {
		return nil, fmt.Errorf("node CIDR mask /%d splits %s into more than 2^%d ranges", maskSize, base, maxSubnetBits)
	}
	n := 1 << (maskSize - base.Bits())
	return &cidrSet{base: base, maskSize: maskSize, count: n, used: make([]uint64, (n+63)/64)}, nil
}

func (s *cidrSet) isUsed(i int) bool { return s.used[i/64]&(1<<(i%64)) != 0 }
func (s *cidrSet) set(i int)         { s.used[i/64] |= 1 << (i % 64) }
func (s *cidrSet) clear(i int)       { s.used[i/64] &^= 1 << (i % 64) }

// allocate takes the next free subnet.
func (s *cidrSet) allocate() (netip.Prefix, error) {
	if s.inUse >= s.count {
		return netip.Prefix{}, ErrFull
	}
	for k := range s.count {
		i := (s.next + k) % s.count
		if !s.isUsed(i) {
			s.set(i)
			s.inUse++
			s.next = (i + 1) % s.count
			return s.subnet(i), nil
		}
	}
	return netip.Prefix{}, ErrFull
}

// occupy marks a subnet taken (an existing node's). A prefix outside the
// pool, or of another size, is an error.
func (s *cidrSet) occupy(p netip.Prefix) error {
	i, err := s.index(p)
	if err != nil {
		return err
	}
	if !s.isUsed(i) {
		s.set(i)
		s.inUse++
	}
	return nil
}

// release returns a subnet to the pool.
func (s *cidrSet) release(p netip.Prefix) error {
	i, err := s.index(p)
	if err != nil {
		return err
	}
	if s.isUsed(i) {
		s.clear(i)
		s.inUse--
	}
	return nil
}

func (s *cidrSet) subnet(i int) netip.Prefix {
	addr := new(big.Int).SetBytes(s.base.Addr().AsSlice())
	shift := uint(s.base.Addr().BitLen() - s.maskSize)
	addr.Add(addr, new(big.Int).Lsh(big.NewInt(int64(i)), shift))
	buf := make([]byte, s.base.Addr().BitLen()/8)
	addr.FillBytes(buf)
	a, _ := netip.AddrFromSlice(buf)
	return netip.PrefixFrom(a, s.maskSize)
}

func (s *cidrSet) index(p netip.Prefix) (int, error) {
	if p.Bits() != s.maskSize || !s.base.Contains(p.Addr()) || p.Masked() != p {
		return 0, fmt.Errorf("%s is not a /%d range of %s", p, s.maskSize, s.base)
	}
	off := new(big.Int).Sub(new(big.Int).SetBytes(p.Addr().AsSlice()), new(big.Int).SetBytes(s.base.Addr().AsSlice()))
	off.Rsh(off, uint(s.base.Addr().BitLen()-s.maskSize))
	return int(off.Int64()), nil
}
