package realnode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"

	"github.com/tugcluster/tug/pkg/network"
)

// Cleanup removes what a node installed on this machine: the safety and
// peer routes, the pod bridge, the network namespace files under the data
// directory and the CNI address leases and cache. Containers are not
// touched: stop the pods first (their network goes with their
// namespaces). Missing pieces are not an error.
func Cleanup(cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	var errs []error
	errs = append(errs, network.SyncPeerRoutes(nil), network.RemoveSafetyRoutes())
	ids, err := network.ListNetNS(cfg.netnsDir())
	errs = append(errs, err)
	for _, id := range ids {
		errs = append(errs, network.DeleteNetNS(filepath.Join(cfg.netnsDir(), id)))
	}
	if link, err := netlink.LinkByName(cfg.BridgeName); err == nil {
		if err := netlink.LinkDel(link); err != nil {
			errs = append(errs, fmt.Errorf("delete bridge %s: %w", cfg.BridgeName, err))
		}
	} else if !errors.As(err, new(netlink.LinkNotFoundError)) {
		errs = append(errs, fmt.Errorf("find bridge %s: %w", cfg.BridgeName, err))
	}
	if err := os.RemoveAll(cfg.cniDir()); err != nil {
		errs = append(errs, fmt.Errorf("remove CNI state: %w", err))
	}
	return errors.Join(errs...)
}
