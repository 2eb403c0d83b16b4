package registry

// CoreResources returns the resources of the core group (/api/v1), in
// discovery order.
func CoreResources() []*Resource {
	return []*Resource{
		namespacesResource(),
		podsResource(),
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
