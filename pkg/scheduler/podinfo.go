package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
)

// PodInfo is a pod with what scheduling computes from it once: requests,
// host ports, priority and parsed inter-pod affinity terms.
type PodInfo struct {
	Pod      *corev1.Pod
	Key      string
	Requests Resources
	// NonZeroMilliCPU and NonZeroMemory count empty requests as defaults.
	NonZeroMilliCPU, NonZeroMemory int64
	Priority                       int32
	Ports                          []hostPort
	OwnerUID                       types.UID

	RequiredAffinity      []affinityTerm
	RequiredAntiAffinity  []affinityTerm
	PreferredAffinity     []weightedTerm
	PreferredAntiAffinity []weightedTerm
}

// hostPort is one host port a pod takes. An empty or 0.0.0.0 IP takes the
// port on every address.
type hostPort struct {
	IP       string
	Protocol corev1.Protocol
	Port     int32
}

// affinityTerm is a PodAffinityTerm with its selectors parsed.
type affinityTerm struct {
	selector    labels.Selector
	namespaces  map[string]bool
	nsSelector  labels.Selector // nil: only namespaces (or the pod's own)
	topologyKey string
	// anchor narrows the placed pods the selector can match.
	anchor anchor
}

type weightedTerm struct {
	affinityTerm
	weight int32
}

// newPodInfo computes a PodInfo; priority comes from the caller, which
// resolves priorityClassName when spec.priority is unset.
func newPodInfo(pod *corev1.Pod, priority int32) *PodInfo {
	pi := &PodInfo{Pod: pod, Key: podKey(pod), Requests: podRequests(pod), Priority: priority}
	pi.NonZeroMilliCPU, pi.NonZeroMemory = nonZeroRequests(pod)
	if ref := metav1.GetControllerOf(pod); ref != nil {
		pi.OwnerUID = ref.UID
	}
	for _, c := range pod.Spec.InitContainers {
		pi.Ports = appendHostPorts(pi.Ports, c.Ports)
	}
	for _, c := range pod.Spec.Containers {
		pi.Ports = appendHostPorts(pi.Ports, c.Ports)
	}
	if a := pod.Spec.Affinity; a != nil {
		if a.PodAffinity != nil {
			pi.RequiredAffinity = parseTerms(pod, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
			pi.PreferredAffinity = parseWeighted(pod, a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
		}
		if a.PodAntiAffinity != nil {
			pi.RequiredAntiAffinity = parseTerms(pod, a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
			pi.PreferredAntiAffinity = parseWeighted(pod, a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
		}
	}
	return pi
}

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

func appendHostPorts(ports []hostPort, cps []corev1.ContainerPort) []hostPort {
	for _, p := range cps {
		if p.HostPort <= 0 {
			continue
		}
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		ports = append(ports, hostPort{IP: ip, Protocol: proto, Port: p.HostPort})
	}
	return ports
}

// parseTerms parses terms; a term whose selector does not parse matches
// nothing (the API server validates selectors, so this is defensive).
func parseTerms(pod *corev1.Pod, terms []corev1.PodAffinityTerm) []affinityTerm {
	out := make([]affinityTerm, 0, len(terms))
	for i := range terms {
		out = append(out, parseTerm(pod, &terms[i]))
	}
	return out
}

func parseWeighted(pod *corev1.Pod, terms []corev1.WeightedPodAffinityTerm) []weightedTerm {
	out := make([]weightedTerm, 0, len(terms))
	for i := range terms {
		out = append(out, weightedTerm{affinityTerm: parseTerm(pod, &terms[i].PodAffinityTerm), weight: terms[i].Weight})
	}
	return out
}

func parseTerm(pod *corev1.Pod, t *corev1.PodAffinityTerm) affinityTerm {
	term := affinityTerm{topologyKey: t.TopologyKey, namespaces: map[string]bool{}}
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil || t.LabelSelector == nil {
		sel = labels.Nothing()
	}
	// matchLabelKeys / mismatchLabelKeys add the incoming pod's own values.
	for _, key := range t.MatchLabelKeys {
		if v, ok := pod.Labels[key]; ok {
			if r, err := labels.NewRequirement(key, selection.In, []string{v}); err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	for _, key := range t.MismatchLabelKeys {
		if v, ok := pod.Labels[key]; ok {
			if r, err := labels.NewRequirement(key, selection.NotIn, []string{v}); err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	term.selector = sel
	term.anchor = selectorAnchor(sel)
	for _, ns := range t.Namespaces {
		term.namespaces[ns] = true
	}
	if t.NamespaceSelector != nil {
		if s, err := metav1.LabelSelectorAsSelector(t.NamespaceSelector); err == nil {
			term.nsSelector = s
		}
	}
	if len(t.Namespaces) == 0 && t.NamespaceSelector == nil {
		term.namespaces[pod.Namespace] = true
	}
	return term
}

// matches reports whether pod (in a namespace with nsLabels) is selected by
// the term.
func (t *affinityTerm) matches(pod *corev1.Pod, nsLabels labels.Set) bool {
	if !t.namespaces[pod.Namespace] {
		if t.nsSelector == nil || !t.nsSelector.Matches(nsLabels) {
			return false
		}
	}
	return t.selector.Matches(labels.Set(pod.Labels))
}

// podPriority is spec.priority, 0 when unset; the scheduler resolves
// priorityClassName before this is used.
func podPriority(pod *corev1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}
