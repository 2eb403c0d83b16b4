package registry

// CoreResources returns the resources of the core group (/api/v1), in
// discovery order, with default options.
func CoreResources() []*Resource { return coreResources(Options{}) }

func coreResources(o Options) []*Resource {
	return []*Resource{
		namespacesResource(),
		podsResource(o),
		nodesResource(),
		servicesResource(),
		endpointsResource(),
		configMapsResource(),
		secretsResource(),
		eventsResource(),
		serviceAccountsResource(),
		persistentVolumesResource(),
		persistentVolumeClaimsResource(),
		resourceQuotasResource(),
		limitRangesResource(),
		podTemplatesResource(),
	}
}
