package endpointslice

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller"
)

// sliceSpec is one slice the Service should have.
type sliceSpec struct {
	key         string
	addressType discoveryv1.AddressType
	ports       []discoveryv1.EndpointPort
	endpoints   []discoveryv1.Endpoint
}

// plan turns endpoint groups into slices of at most max endpoints. A
// Service with no endpoints keeps one empty slice, so readers can tell
// "no endpoints" from "not processed yet".
func plan(svc *corev1.Service, groups []*group, max int) []sliceSpec {
	var out []sliceSpec
	for _, g := range groups {
		for _, eps := range chunk(g.endpoints, max) {
			out = append(out, sliceSpec{key: sliceKey(g.addressType, g.ports), addressType: g.addressType, ports: g.ports, endpoints: eps})
		}
	}
	if len(out) == 0 {
		at := discoveryv1.AddressTypeIPv4
		if Families(svc)[0] == corev1.IPv6Protocol {
			at = discoveryv1.AddressTypeIPv6
		}
		out = append(out, sliceSpec{key: sliceKey(at, nil), addressType: at})
	}
	return out
}

// sync brings one Service's slices in line with its pods: it updates the
// slices it can reuse (same address type and ports), creates the missing
// ones, then deletes the rest.
func (ec *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	existing, err := ec.slices.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ManagedBy}))
	if err != nil {
		return err
	}
	if !ec.cacheCurrent(key, existing) {
		return fmt.Errorf("slices of %s not in the cache yet: %w", key, controller.ErrRequeue)
	}
	svc, err := ec.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && !Selects(svc)) {
		return ec.deleteSlices(ctx, key, existing)
	}
	if err != nil {
		return err
	}
	pods, err := ec.pods.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	zones := map[string]string{}
	for _, p := range pods {
		if n, err := ec.nodes.Get(p.Spec.NodeName); p.Spec.NodeName != "" && err == nil {
			zones[n.Name] = n.Labels[corev1.LabelTopologyZone]
		}
	}
	specs := plan(svc, desiredEndpoints(svc, pods, zones), ec.maxPerSlice)

	reusable := map[string][]*discoveryv1.EndpointSlice{}
	sorted := slices.Clone(existing)
	slices.SortFunc(sorted, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range sorted {
		if s.DeletionTimestamp == nil {
			k := sliceKey(s.AddressType, s.Ports)
			reusable[k] = append(reusable[k], s)
		}
	}
	client := ec.client.DiscoveryV1().EndpointSlices(ns)
	for _, spec := range specs {
		want := ec.newSlice(svc, spec)
		if olds := reusable[spec.key]; len(olds) > 0 {
			old := olds[0]
			reusable[spec.key] = olds[1:]
			if sameSlice(old, want) {
				continue
			}
			next := old.DeepCopy()
			next.Labels, next.OwnerReferences, next.Endpoints, next.Ports = want.Labels, want.OwnerReferences, want.Endpoints, want.Ports
			updated, err := client.Update(ctx, next, metav1.UpdateOptions{})
			if err != nil {
				return fmt.Errorf("update endpointslice %s/%s: %w", ns, old.Name, err)
			}
			ec.noteWrite(key, updated.Name, updated.ResourceVersion)
			continue
		}
		created, err := client.Create(ctx, want, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create endpointslice for %s: %w", key, err)
		}
		ec.noteWrite(key, created.Name, created.ResourceVersion)
	}
	var rest []*discoveryv1.EndpointSlice
	for _, olds := range reusable {
		rest = append(rest, olds...)
	}
	return ec.deleteSlices(ctx, key, rest)
}

func (ec *Controller) deleteSlices(ctx context.Context, key string, old []*discoveryv1.EndpointSlice) error {
	for _, s := range old {
		err := ec.client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete endpointslice %s/%s: %w", s.Namespace, s.Name, err)
		}
		ec.noteWrite(key, s.Name, "0")
	}
	return nil
}

// newSlice builds the slice a spec describes, owned by the Service.
func (ec *Controller) newSlice(svc *corev1.Service, spec sliceSpec) *discoveryv1.EndpointSlice {
	prefix := svc.Name
	if len(prefix) > 57 {
		prefix = prefix[:57]
	}
	ports := spec.ports
	if ports == nil {
		ports = []discoveryv1.EndpointPort{}
	}
	endpoints := spec.endpoints
	if endpoints == nil {
		endpoints = []discoveryv1.Endpoint{}
	}
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: prefix + "-",
			Namespace:    svc.Namespace,
			Labels:       sliceLabels(svc),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc,
				corev1.SchemeGroupVersion.WithKind("Service"))},
		},
		AddressType: spec.addressType,
		Ports:       ports,
		Endpoints:   endpoints,
	}
}

// sameSlice reports whether an existing slice already says what want says.
func sameSlice(old, want *discoveryv1.EndpointSlice) bool {
	return apiequality.Semantic.DeepEqual(old.Labels, want.Labels) &&
		apiequality.Semantic.DeepEqual(old.OwnerReferences, want.OwnerReferences) &&
		apiequality.Semantic.DeepEqual(emptyIfNil(old.Endpoints), want.Endpoints) &&
		portsKey(old.Ports) == portsKey(want.Ports)
}

func emptyIfNil(eps []discoveryv1.Endpoint) []discoveryv1.Endpoint {
	if eps == nil {
		return []discoveryv1.Endpoint{}
	}
	return eps
}
