// Package endpoints owns the core/v1 Endpoints controller: for every
// Service with a selector it keeps an Endpoints object of the same name
// whose subsets list the selected pods' addresses (ready ones under
// addresses, the others under notReadyAddresses) grouped by resolved
// ports. It shares the pod rules of package endpointslice. The object is
// deleted with its Service; selector-less Services' Endpoints are left to
// their owners.
package endpoints
