package registry

// Options are the resource behaviours a server flag can change.
type Options struct {
	// DefaultTolerationSeconds is how long a pod tolerates a not-ready or
	// unreachable node before it is evicted, unless it says otherwise
	// (300 s when zero, as in Kubernetes).
	DefaultTolerationSeconds int64
}

// All returns every resource the API server serves, in discovery order,
// with default options.
func All() []*Resource { return AllWith(Options{}) }

// AllWith returns every resource the API server serves, in discovery order.
func AllWith(o Options) []*Resource {
	var all []*Resource
	all = append(all, coreResources(o)...)
	all = append(all, GroupResources()...)
	return all
}
