// Package endpointslice owns the EndpointSlice controller: for every
// Service with a selector it keeps discovery.k8s.io/v1 EndpointSlices
// (labelled kubernetes.io/service-name and managed-by
// endpointslice-controller.k8s.io, at most 100 endpoints each) listing the
// selected pods with their ready/serving/terminating conditions, node,
// zone, hostname and target ports. The node agents' service proxy and DNS
// read these slices.
//
// It also exports the pod-to-endpoint rules the core/v1 Endpoints
// controller shares (which pods count, how a targetPort resolves, which
// Services select a pod).
//
// It writes only EndpointSlices it manages; selector-less Services are
// left to whoever manages their endpoints.
package endpointslice
