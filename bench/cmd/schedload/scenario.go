package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/bench/internal/latency"
)

// Pods of one app: with anti-affinity, no two share a node.
const (
	podsPerApp        = 5   // created directly
	replicasPerSet    = 100 // created through ReplicaSets (at most one per node)
	hostnameLabel     = "kubernetes.io/hostname"
	scenarioNamespace = "sched-"
)

type scenario struct {
	name       string
	replicaSet bool
	anti       bool
}

func parseScenario(name string) (scenario, error) {
	switch name {
	case "pods-plain":
		return scenario{name: name}, nil
	case "pods-anti":
		return scenario{name: name, anti: true}, nil
	case "rs-plain":
		return scenario{name: name, replicaSet: true}, nil
	case "rs-anti":
		return scenario{name: name, replicaSet: true, anti: true}, nil
	}
	return scenario{}, fmt.Errorf("unknown scenario %q (pods-plain, pods-anti, rs-plain, rs-anti)", name)
}

type scenarioResult struct {
	scenario
	bound, total int
	elapsed      time.Duration
	// latency is from the pod's first appearance in the watch to the
	// first event showing spec.nodeName; fromCreation uses the pod's
	// creationTimestamp (whole seconds) instead of the first event.
	latency, fromCreation *latency.Sample
	timedOut              bool
	// cpu is the processor time each process used during the scenario.
	cpu cpuUse
}

// cpuUse is processor time per process over one scenario.
type cpuUse struct{ server, agent, load time.Duration }

// tracker records, per pod, when the watch first saw it and when it first
// saw it bound.
type tracker struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	bound map[string]bool
	res   *scenarioResult
	last  time.Time
	done  chan struct{}
}

func (t *tracker) observe(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	first, ok := t.seen[pod.Name]
	if !ok {
		first = now
		t.seen[pod.Name] = now
	}
	if pod.Spec.NodeName == "" || t.bound[pod.Name] {
		return
	}
	t.bound[pod.Name] = true
	t.last = now
	t.res.latency.Add(now.Sub(first))
	t.res.fromCreation.Add(now.Sub(pod.CreationTimestamp.Time))
	if len(t.bound) == t.res.total {
		close(t.done)
	}
}

// runScenario creates c.pods pods in a fresh namespace and waits until the
// watch has seen all of them bound.
func runScenario(ctx context.Context, c config, nodes int, sc scenario, clients []*kubernetes.Clientset) (scenarioResult, error) {
	res := scenarioResult{scenario: sc, total: c.pods, latency: &latency.Sample{}, fromCreation: &latency.Sample{}}
	ns := scenarioNamespace + sc.name
	cs := clients[0]
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return res, fmt.Errorf("create namespace: %w", err)
	}
	t := &tracker{seen: map[string]time.Time{}, bound: map[string]bool{}, res: &res, done: make(chan struct{})}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    t.observe,
		UpdateFunc: func(_, obj any) { t.observe(obj) },
	}); err != nil {
		return res, err
	}
	sctx, cancel := context.WithTimeout(ctx, c.scenarioTimeout)
	defer cancel()
	factory.Start(sctx.Done())
	defer func() {
		// Shutdown waits for the informer, which stops when sctx ends.
		cancel()
		factory.Shutdown()
	}()
	if !cache.WaitForCacheSync(sctx.Done(), inf.HasSynced) {
		return res, fmt.Errorf("pod informer did not sync: %w", sctx.Err())
	}

	start := time.Now()
	if c.profileDir != "" {
		go profileServer(sctx, cs, filepath.Join(c.profileDir, fmt.Sprintf("server-%d-%s.pprof", nodes, sc.name)))
	}
	creators := clients[1:]
	var err error
	if sc.replicaSet {
		per := min(replicasPerSet, nodes)
		sets := (c.pods + per - 1) / per
		_, err = latency.Run(sctx, sets, len(creators), func(ctx context.Context, w, i int) error {
			_, err := creators[w].AppsV1().ReplicaSets(ns).Create(ctx, replicaSet(sc, i, min(per, c.pods-i*per)), metav1.CreateOptions{})
			return err
		})
	} else {
		_, err = latency.Run(sctx, c.pods, len(creators), func(ctx context.Context, w, i int) error {
			_, err := creators[w].CoreV1().Pods(ns).Create(ctx, benchPod(sc, i), metav1.CreateOptions{})
			return err
		})
	}
	if err != nil {
		return res, fmt.Errorf("create: %w", err)
	}
	select {
	case <-t.done:
	case <-sctx.Done():
		res.timedOut = true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	res.bound = len(t.bound)
	res.elapsed = t.last.Sub(start)
	fmt.Printf("%s: %d/%d bound in %.1f s\n", sc.name, res.bound, res.total, res.elapsed.Seconds())
	return res, nil
}

func appLabels(sc scenario, app int) map[string]string {
	return map[string]string{"app": fmt.Sprintf("%s-%d", sc.name, app)}
}

func podSpec(sc scenario, lbls map[string]string) corev1.PodSpec {
	spec := corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app", Image: "registry.local/app:1",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}},
	}}}
	if sc.anti {
		spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey: hostnameLabel, LabelSelector: &metav1.LabelSelector{MatchLabels: lbls}}}}}
	}
	return spec
}

func benchPod(sc scenario, i int) *corev1.Pod {
	lbls := appLabels(sc, i/podsPerApp)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%05d", i), Labels: lbls},
		Spec:       podSpec(sc, lbls),
	}
}

func replicaSet(sc scenario, i, replicas int) *appsv1.ReplicaSet {
	lbls := appLabels(sc, i)
	n := int32(replicas)
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rs-%03d", i), Labels: lbls},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbls}, Spec: podSpec(sc, lbls)},
		},
	}
}

func printResults(nodes, pods int, results []scenarioResult) {
	fmt.Printf("\n| nodes | scenario | pods bound | pods/s (first create → last bound) | p50 ms | p99 ms | max ms | p99 from creationTimestamp ms |\n")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		rate := 0.0
		if r.elapsed > 0 {
			rate = float64(r.bound) / r.elapsed.Seconds()
		}
		note := ""
		if r.timedOut {
			note = " (timed out)"
		}
		fmt.Printf("| %d | %s | %d/%d%s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", nodes, r.name, r.bound, r.total, note, rate,
			latency.Ms(r.latency.Quantile(0.5)), latency.Ms(r.latency.Quantile(0.99)), latency.Ms(r.latency.Max()),
			latency.Ms(r.fromCreation.Quantile(0.99)))
	}
	fmt.Println()
	fmt.Println("| nodes | scenario | server CPU s | simulated nodes CPU s | load generator CPU s | CPU ms per pod, all three |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range results {
		all := r.cpu.server + r.cpu.agent + r.cpu.load
		fmt.Printf("| %d | %s | %.1f | %.1f | %.1f | %.2f |\n", nodes, r.name, r.cpu.server.Seconds(), r.cpu.agent.Seconds(),
			r.cpu.load.Seconds(), latency.Ms(all)/float64(max(r.bound, 1)))
	}
	fmt.Println()
}

// profileServer writes a 15-second CPU profile of the server to path and,
// 8 seconds in, its goroutines to path+".goroutines"; a failure is only
// reported, the scenario goes on.
func profileServer(ctx context.Context, cs *kubernetes.Clientset, path string) {
	go func() {
		select {
		case <-time.After(8 * time.Second):
		case <-ctx.Done():
			return
		}
		fetchProfile(ctx, cs, path+".goroutines", "/debug/pprof/goroutine", "debug", "1")
	}()
	fetchProfile(ctx, cs, path, "/debug/pprof/profile", "seconds", "15")
}

func fetchProfile(ctx context.Context, cs *kubernetes.Clientset, path, endpoint, param, value string) {
	b, err := cs.CoreV1().RESTClient().Get().AbsPath(endpoint).Param(param, value).DoRaw(ctx)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "schedload: profile %s: %v\n", path, err)
	}
}
