package registry

// All returns every resource the API server serves, in discovery order.
func All() []*Resource {
	var all []*Resource
	all = append(all, CoreResources()...)
	all = append(all, GroupResources()...)
	return all
}
