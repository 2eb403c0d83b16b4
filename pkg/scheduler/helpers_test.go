package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func node(name, cpu, mem string, pods int, lbls map[string]string) *corev1.Node {
	l := map[string]string{"kubernetes.io/hostname": name}
	for k, v := range lbls {
		l[k] = v
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(mem),
			corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
		}},
	}
}

func pod(name, cpu, mem string) *corev1.Pod {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img",
			Resources: corev1.ResourceRequirements{Requests: req}}}},
	}
}

func on(p *corev1.Pod, nodeName string) *corev1.Pod {
	p = p.DeepCopy()
	p.Spec.NodeName = nodeName
	return p
}

func withLabels(p *corev1.Pod, l map[string]string) *corev1.Pod {
	p.Labels = l
	return p
}

func withPriority(p *corev1.Pod, prio int32) *corev1.Pod {
	p.Spec.Priority = &prio
	return p
}

// world is a snapshot with nodes and placed pods, and an algorithm over it.
type world struct {
	snap *Snapshot
	algo *algorithm
}

func newWorld(t testing.TB, nodes []*corev1.Node, pods []*corev1.Pod, opts ...func(*algorithm)) *world {
	t.Helper()
	s := NewSnapshot(nil)
	s.SetNamespace(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	for _, n := range nodes {
		s.SetNode(n)
	}
	for _, p := range pods {
		s.AddPod(p)
	}
	a := newAlgorithm(s, nil, false, 0)
	for _, o := range opts {
		o(a)
	}
	return &world{snap: s, algo: a}
}

// place schedules p and returns the node, or the failure sentence
// (without preemption) as an error.
func (w *world) place(p *corev1.Pod) (string, error) {
	res := w.algo.schedule(newPodInfo(p, podPriority(p)))
	if res.node == "" {
		return "", fmt.Errorf("%s", noNodesMessage(res.numNodes, res.failures, res.podErr, ""))
	}
	return res.node, nil
}

func mustPlace(t *testing.T, w *world, p *corev1.Pod) string {
	t.Helper()
	n, err := w.place(p)
	if err != nil {
		t.Fatalf("place %s: %v", p.Name, err)
	}
	return n
}

func mustFail(t *testing.T, w *world, p *corev1.Pod, want string) {
	t.Helper()
	n, err := w.place(p)
	if err == nil {
		t.Fatalf("place %s: got node %s, want failure %q", p.Name, n, want)
	}
	if err.Error() != want {
		t.Fatalf("place %s:\n got %q\nwant %q", p.Name, err.Error(), want)
	}
}

func metaSelector(l map[string]string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: l}
}
