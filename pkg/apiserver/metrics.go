package apiserver

import (
	"net/http"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/tugcluster/tug/pkg/storage"
)

// The resource metrics API (what metrics-server serves in Kubernetes),
// answered from the agents' /stats/summary.
const (
	metricsGroup   = "metrics.k8s.io"
	metricsVersion = "v1beta1"
)

// metricsWindow is the interval the usage figures stand for.
const metricsWindow = 15 * time.Second

// metricsResources is the discovery of metrics.k8s.io/v1beta1.
func metricsResources() *metav1.APIResourceList {
	verbs := metav1.Verbs{"get", "list"}
	return &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: metricsGroup + "/" + metricsVersion,
		APIResources: []metav1.APIResource{
			{Name: "nodes", SingularName: "", Namespaced: false, Kind: "NodeMetrics", Verbs: verbs},
			{Name: "pods", SingularName: "", Namespaced: true, Kind: "PodMetrics", Verbs: verbs},
		},
	}
}

func metricsAPIGroup() metav1.APIGroup {
	gv := metav1.GroupVersionForDiscovery{GroupVersion: metricsGroup + "/" + metricsVersion, Version: metricsVersion}
	return metav1.APIGroup{Name: metricsGroup, Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv}
}

// serveMetrics answers get and list of nodes and pods in metrics.k8s.io.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, info requestInfo) {
	gr := schema.GroupResource{Group: metricsGroup, Resource: info.Resource}
	var err error
	switch {
	case info.Version != metricsVersion || info.Subresource != "":
		err = errNotFoundPath()
	case !s.isReady():
		err = apierrors.NewServiceUnavailable("the server is starting; try again shortly")
	case info.Verb != "get" && info.Verb != "list":
		err = methodNotAllowed(gr)
	case info.Resource == "nodes" && info.Namespace == "":
		err = s.serveNodeMetrics(w, r, info)
	case info.Resource == "pods":
		err = s.servePodMetrics(w, r, info)
	default:
		err = errNotFoundPath()
	}
	if err != nil {
		s.writeError(w, r, err, gr, info.Name)
	}
}

func (s *Server) serveNodeMetrics(w http.ResponseWriter, r *http.Request, info requestInfo) error {
	nodesRes := s.lookup("", "v1", "nodes")
	var nodes []*corev1.Node
	if info.Name != "" {
		node := &corev1.Node{}
		if err := nodesRes.store.Get(r.Context(), nodesRes.key("", info.Name), storage.GetOptions{}, node); err != nil {
			return err
		}
		nodes = append(nodes, node)
	} else {
		list := &corev1.NodeList{}
		if err := s.listFor(w, r, info, nodesRes, list); err != nil {
			return err
		}
		keep := map[string]bool{}
		for i := range list.Items {
			nodes = append(nodes, &list.Items[i])
			keep[list.Items[i].Name] = true
		}
		if q := r.URL.Query(); q.Get("labelSelector") == "" && q.Get("fieldSelector") == "" {
			s.metrics.forget(keep)
		}
	}
	sums := s.summaries(r.Context(), nodes)
	out := &metricsv1beta1.NodeMetricsList{TypeMeta: metav1.TypeMeta{Kind: "NodeMetricsList", APIVersion: metricsGroup + "/" + metricsVersion}}
	for _, n := range nodes {
		sum := sums[n.Name]
		if sum == nil || sum.Node.CPU == nil || sum.Node.CPU.UsageNanoCores == nil {
			continue
		}
		out.Items = append(out.Items, metricsv1beta1.NodeMetrics{
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels, CreationTimestamp: metav1.NewTime(time.Now())},
			Timestamp:  sum.Node.CPU.Time,
			Window:     metav1.Duration{Duration: metricsWindow},
			Usage:      usage(sum.Node.CPU, sum.Node.Memory),
		})
	}
	if info.Name != "" {
		if len(out.Items) == 0 {
			return apierrors.NewNotFound(schema.GroupResource{Group: metricsGroup, Resource: "nodemetrics"}, info.Name)
		}
		m := out.Items[0]
		m.TypeMeta = metav1.TypeMeta{Kind: "NodeMetrics", APIVersion: out.APIVersion}
		writeRaw(w, http.StatusOK, &m)
		return nil
	}
	if out.Items == nil {
		out.Items = []metricsv1beta1.NodeMetrics{}
	}
	writeRaw(w, http.StatusOK, out)
	return nil
}

func (s *Server) servePodMetrics(w http.ResponseWriter, r *http.Request, info requestInfo) error {
	podsRes := s.lookup("", "v1", "pods")
	var pods []*corev1.Pod
	if info.Name != "" {
		if info.Namespace == "" {
			return errNotFoundPath()
		}
		pod := &corev1.Pod{}
		if err := podsRes.store.Get(r.Context(), podsRes.key(info.Namespace, info.Name), storage.GetOptions{}, pod); err != nil {
			return err
		}
		pods = append(pods, pod)
	} else {
		list := &corev1.PodList{}
		if err := s.listFor(w, r, info, podsRes, list); err != nil {
			return err
		}
		for i := range list.Items {
			pods = append(pods, &list.Items[i])
		}
	}
	nodesRes := s.lookup("", "v1", "nodes")
	var nodes []*corev1.Node
	seen := map[string]bool{}
	for _, p := range pods {
		if p.Spec.NodeName == "" || seen[p.Spec.NodeName] {
			continue
		}
		seen[p.Spec.NodeName] = true
		node := &corev1.Node{}
		if err := nodesRes.store.Get(r.Context(), nodesRes.key("", p.Spec.NodeName), storage.GetOptions{}, node); err == nil {
			nodes = append(nodes, node)
		}
	}
	sums := s.summaries(r.Context(), nodes)
	out := &metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: metricsGroup + "/" + metricsVersion}}
	for _, p := range pods {
		if m, ok := podMetrics(p, sums[p.Spec.NodeName]); ok {
			out.Items = append(out.Items, m)
		}
	}
	if info.Name != "" {
		if len(out.Items) == 0 {
			return apierrors.NewNotFound(schema.GroupResource{Group: metricsGroup, Resource: "podmetrics"}, info.Name)
		}
		m := out.Items[0]
		m.TypeMeta = metav1.TypeMeta{Kind: "PodMetrics", APIVersion: out.APIVersion}
		writeRaw(w, http.StatusOK, &m)
		return nil
	}
	sort.Slice(out.Items, func(i, j int) bool {
		a, b := out.Items[i], out.Items[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	if out.Items == nil {
		out.Items = []metricsv1beta1.PodMetrics{}
	}
	writeRaw(w, http.StatusOK, out)
	return nil
}

// listFor lists the objects the metrics are about, honouring the label
// and field selectors of the request (whole lists: no paging).
func (s *Server) listFor(w http.ResponseWriter, r *http.Request, info requestInfo, res *resource, list runtime.Object) error {
	req := &request{Request: r, w: w, info: info, res: res, s: s}
	_, opts, err := s.listOptions(req)
	if err != nil {
		return err
	}
	opts.Predicate.Limit, opts.Predicate.Continue = 0, ""
	opts.ResourceVersion, opts.ResourceVersionMatch = "", ""
	return res.store.GetList(r.Context(), res.listKey(info.Namespace), opts, list)
}

// podMetrics is the usage of one pod from its node's summary: false when
// the pod is not there yet or a running container has no figures.
func podMetrics(pod *corev1.Pod, sum *statsapi.Summary) (metricsv1beta1.PodMetrics, bool) {
	if sum == nil {
		return metricsv1beta1.PodMetrics{}, false
	}
	for _, ps := range sum.Pods {
		ref := ps.PodRef
		if ref.Namespace != pod.Namespace || ref.Name != pod.Name || (ref.UID != "" && ref.UID != string(pod.UID)) {
			continue
		}
		if ps.CPU == nil || ps.CPU.UsageNanoCores == nil || len(ps.Containers) == 0 {
			return metricsv1beta1.PodMetrics{}, false
		}
		m := metricsv1beta1.PodMetrics{
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, Labels: pod.Labels,
				CreationTimestamp: metav1.NewTime(time.Now())},
			Timestamp: ps.CPU.Time,
			Window:    metav1.Duration{Duration: metricsWindow},
		}
		for _, c := range ps.Containers {
			if c.CPU == nil || c.CPU.UsageNanoCores == nil {
				return metricsv1beta1.PodMetrics{}, false
			}
			m.Containers = append(m.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name, Usage: usage(c.CPU, c.Memory)})
		}
		return m, true
	}
	return metricsv1beta1.PodMetrics{}, false
}

// usage turns summary figures into cpu and memory quantities.
func usage(cpu *statsapi.CPUStats, mem *statsapi.MemoryStats) corev1.ResourceList {
	out := corev1.ResourceList{
		corev1.ResourceCPU:    *apiresource.NewScaledQuantity(int64(*cpu.UsageNanoCores), apiresource.Nano),
		corev1.ResourceMemory: *apiresource.NewQuantity(0, apiresource.BinarySI),
	}
	if mem != nil && mem.WorkingSetBytes != nil {
		out[corev1.ResourceMemory] = *apiresource.NewQuantity(int64(*mem.WorkingSetBytes), apiresource.BinarySI)
	}
	return out
}
