//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/test/images"
)

// Benchmarks of the real binary on one server host and one node host. They
// run only with -bench, e.g.
//
//	make build && TUG_BIN=$PWD/bin/tug go test -tags e2e -run '^$' \
//	    -bench 'PodStartup|AgentRSS' -benchtime 1x ./test/e2e/
//
// The agent logs at debug level, so the phases of every pod's start can be
// read from its log.

// BenchmarkPodStartup creates 1, 20 and 100 pods at once on one node whose
// image is already present and measures, per pod, the time from the start
// of its create call to the arrival of the watch event that shows it
// Running, and Ready.
func BenchmarkPodStartup(b *testing.B) {
	c := benchCluster(b)
	a := c.nodes[0]
	// Pull the image once, so every measured pod finds it present.
	if _, err := c.runPodBatch(b, "warm", 1); err != nil {
		b.Fatalf("pre-pull pod: %v", err)
	}
	for _, n := range []int{1, 20, 100} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			var running, ready, bound, dispatch, sandbox, create, taskCreate, taskStart, status []time.Duration
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				events, err := c.recordTaskEvents(a)
				if err != nil {
					b.Fatal(err)
				}
				r, err := c.runPodBatch(b, fmt.Sprintf("%d-%d", n, i), n)
				events.stop(5 * time.Second)
				if err != nil {
					b.Fatal(err)
				}
				running, ready = append(running, r.running...), append(ready, r.ready...)
				wall += r.wall
				ph := agentPhases(a.proc.logPath, events.logPath, r)
				bound, dispatch = append(bound, ph.bound...), append(dispatch, ph.dispatch...)
				sandbox = append(sandbox, ph.sandbox...)
				create, taskCreate = append(create, ph.create...), append(taskCreate, ph.taskCreate...)
				taskStart, status = append(taskStart, ph.taskStart...), append(status, ph.status...)
			}
			reportPercentiles(b, "running", running)
			reportPercentiles(b, "ready", ready)
			b.ReportMetric(ms(wall)/float64(b.N), "wall-ms")
			b.ReportMetric(0, "ns/op") // the timer does not cover the pods' start
			b.Logf("%d pods: phase medians (p99) from the agent log and containerd's task events, %d pods seen: "+
				"create call→bound %s, bound→agent sync start %s, sandbox (netns+CNI ADD) %s, container create %s, "+
				"task create (shim+runc create) %s, task start %s, task started→sync end (status write) %s",
				n, len(sandbox), medP99(bound), medP99(dispatch), medP99(sandbox), medP99(create),
				medP99(taskCreate), medP99(taskStart), medP99(status))
		})
	}
}

// BenchmarkAgentRSS reads the resident memory of the agent, of the
// containerd it started and of the containerd shims, once the node is
// Ready with no pods and again with 100 pods running.
func BenchmarkAgentRSS(b *testing.B) {
	c := benchCluster(b)
	a := c.nodes[0]
	time.Sleep(5 * time.Second) // let the agent settle after registration
	idle, err := nodeMemory(a)
	if err != nil {
		b.Fatal(err)
	}
	r, err := c.startPods(b, "rss", 100)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(5 * time.Second) // let probes, status and stats loops run
	busy, err := nodeMemory(a)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.deletePods(r.id); err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		when string
		mem  nodeMem
	}{{"idle", idle}, {"100pods", busy}} {
		b.ReportMetric(m.mem.agent.rssMB(), "agent-"+m.when+"-MB")
		b.ReportMetric(m.mem.agent.anonMB(), "agent-anon-"+m.when+"-MB")
		b.ReportMetric(m.mem.agent.pssMB(), "agent-pss-"+m.when+"-MB")
		b.ReportMetric(m.mem.containerd.rssMB(), "containerd-"+m.when+"-MB")
		b.ReportMetric(m.mem.shims.rssMB(), "shims-"+m.when+"-MB")
		b.ReportMetric(m.mem.shims.pssMB(), "shims-pss-"+m.when+"-MB")
		b.Logf("%s: agent VmRSS %.1f MB (anon %.1f, PSS %.1f), containerd %.1f MB (anon %.1f, PSS %.1f), %d shims %.1f MB (anon %.1f, PSS %.1f)",
			m.when, m.mem.agent.rssMB(), m.mem.agent.anonMB(), m.mem.agent.pssMB(),
			m.mem.containerd.rssMB(), m.mem.containerd.anonMB(), m.mem.containerd.pssMB(),
			m.mem.nShims, m.mem.shims.rssMB(), m.mem.shims.anonMB(), m.mem.shims.pssMB())
	}
	b.ReportMetric(0, "ns/op")
}

// benchCluster starts a one-node cluster for b and stops it, with the
// tests' leak checks, when b ends. The cluster harness works on a
// *testing.T, so it runs in a test of its own (testing.RunTests) that
// lives as long as the benchmark; b drives the cluster meanwhile, through
// calls that return errors rather than fail that test.
func benchCluster(b *testing.B) *cluster {
	b.Helper()
	if os.Getenv("TUG_BIN") == "" {
		b.Skip("TUG_BIN is not set")
	}
	if os.Geteuid() != 0 {
		b.Skip("needs root (network namespaces)")
	}
	if os.Getenv("TUG_E2E_LOG_LEVEL") == "" {
		b.Setenv("TUG_E2E_LOG_LEVEL", "debug")
	}
	ready := make(chan *cluster, 1)
	done := make(chan struct{})
	finished := make(chan bool, 1)
	var skipped bool
	test := testing.InternalTest{Name: "cluster", F: func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		ready <- startCluster(t, 1)
		<-done
	}}
	go func() {
		// One cluster per benchmark run, whatever -count says.
		count := flag.Lookup("test.count")
		prev := count.Value.String()
		_ = count.Value.Set("1")
		defer func() { _ = count.Value.Set(prev) }()
		finished <- testing.RunTests(func(string, string) (bool, error) { return true, nil }, []testing.InternalTest{test})
	}()
	select {
	case c := <-ready:
		b.Cleanup(func() {
			close(done)
			if !<-finished {
				b.Error("cluster teardown reported errors (see the output of the cluster test)")
			}
		})
		return c
	case ok := <-finished:
		if ok && skipped {
			b.Skip("the cluster's prerequisites are missing (run with -v for the reason)")
		}
		b.Fatal("the cluster did not start (see the output of the cluster test)")
		return nil
	}
}

// batch is the outcome of starting pods together.
type batch struct {
	id             string
	names          []string
	began          time.Time
	createStart    map[string]time.Time
	running, ready []time.Duration      // per pod, from its create call's start
	boundAt        map[string]time.Time // first event showing the pod bound to a node
	wall           time.Duration        // first create call to last pod Ready
}

// runPodBatch starts n pods, then deletes them and waits until the node
// holds none of their containers.
func (c *cluster) runPodBatch(b *testing.B, id string, n int) (*batch, error) {
	r, err := c.startPods(b, id, n)
	if r != nil {
		if derr := c.deletePods(r.id); derr != nil {
			return r, errors.Join(err, derr)
		}
	}
	return r, err
}

// startPods creates n busybox pods labelled bench=id, up to 8 create calls
// at a time, and waits until all are Ready, timing each pod from the
// start of its create call to the watch events that show it Running and
// Ready. The benchmark timer runs from the first call to the last Ready.
func (c *cluster) startPods(b *testing.B, id string, n int) (*batch, error) {
	client := c.benchHTTP()
	r := &batch{id: id, createStart: map[string]time.Time{}, boundAt: map[string]time.Time{}}
	for i := 0; i < n; i++ {
		r.names = append(r.names, fmt.Sprintf("bench-%s-%d", id, i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second+time.Duration(n)*time.Second)
	defer cancel()
	events, err := c.watchPods(ctx, client, "bench="+id)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	names := make(chan string)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	b.StartTimer()
	r.began = time.Now()
	for w := 0; w < min(n, 8); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range names {
				began := time.Now()
				mu.Lock()
				r.createStart[name] = began
				mu.Unlock()
				if err := c.createBenchPod(ctx, client, id, name); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, name := range r.names {
		names <- name
	}
	close(names)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.StopTimer()
		return r, err
	}
	runningAt, readyAt := map[string]time.Time{}, map[string]time.Time{}
	for len(readyAt) < n {
		var ev podEvent
		select {
		case ev = <-events:
		case <-ctx.Done():
			b.StopTimer()
			return r, fmt.Errorf("%d of %d pods Ready: %w", len(readyAt), n, ctx.Err())
		}
		if ev.err != nil {
			b.StopTimer()
			return r, ev.err
		}
		p := ev.pod
		if _, ok := r.boundAt[p.Name]; !ok && p.Spec.NodeName != "" {
			r.boundAt[p.Name] = ev.at
		}
		if _, ok := runningAt[p.Name]; !ok && p.Status.Phase == corev1.PodRunning {
			runningAt[p.Name] = ev.at
		}
		if _, ok := readyAt[p.Name]; !ok && podReady(p) {
			readyAt[p.Name] = ev.at
		}
	}
	b.StopTimer()
	var last time.Time
	for _, name := range r.names {
		r.running = append(r.running, runningAt[name].Sub(r.createStart[name]))
		r.ready = append(r.ready, readyAt[name].Sub(r.createStart[name]))
		if readyAt[name].After(last) {
			last = readyAt[name]
		}
	}
	r.wall = last.Sub(r.began)
	return r, nil
}

// benchHTTP is a client over the API client's transport that keeps its
// connections and has no overall timeout (watches stream).
func (c *cluster) benchHTTP() *http.Client {
	tr := c.api.http.Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = false
	tr.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: tr}
}

func (c *cluster) createBenchPod(ctx context.Context, client *http.Client, id, name string) error {
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": testNS, "labels": map[string]string{"bench": id}},
		"spec": map[string]any{
			"terminationGracePeriodSeconds": 2,
			"containers": []map[string]any{{
				"name": "main", "image": images.Busybox,
				// A shell that ends on SIGTERM, so deletion takes no grace period.
				"command": []string{"sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"},
			}},
		},
	}
	body, err := json.Marshal(pod)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api.base+"/api/v1/namespaces/"+testNS+"/pods", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("create pod %s: %w", name, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create pod %s: %s: %s", name, resp.Status, msg)
	}
	return nil
}

// podEvent is one watch event and when it arrived.
type podEvent struct {
	pod *corev1.Pod
	at  time.Time
	err error
}

// watchPods watches testNS's pods matching selector from the current
// resourceVersion; it returns once the watch is established.
func (c *cluster) watchPods(ctx context.Context, client *http.Client, selector string) (<-chan podEvent, error) {
	q := "labelSelector=" + url.QueryEscape(selector)
	var list corev1.PodList
	if err := c.api.get(ctx, "/api/v1/namespaces/"+testNS+"/pods?"+q, &list); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.api.base+"/api/v1/namespaces/"+testNS+"/pods?watch=1&"+q+"&resourceVersion="+list.ResourceVersion, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("watch pods: %s: %s", resp.Status, msg)
	}
	out := make(chan podEvent, 256)
	go func() {
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var ev struct {
				Type   string          `json:"type"`
				Object json.RawMessage `json:"object"`
			}
			err := dec.Decode(&ev)
			at := time.Now()
			var pe podEvent
			switch {
			case err != nil:
				pe.err = fmt.Errorf("watch pods: %w", err)
			case ev.Type == "ERROR":
				pe.err = fmt.Errorf("watch pods: %s", ev.Object)
			case ev.Type == "BOOKMARK":
				continue
			default:
				pe.pod, pe.at = &corev1.Pod{}, at
				pe.err = json.Unmarshal(ev.Object, pe.pod)
			}
			select {
			case out <- pe:
			case <-ctx.Done():
				return
			}
			if pe.err != nil {
				return
			}
		}
	}()
	return out, nil
}

// deletePods deletes the pods labelled bench=id and waits until they are
// gone and the node's containerd holds no container.
func (c *cluster) deletePods(id string) error {
	if out, err := c.kubectl("", "-n", testNS, "delete", "pods", "-l", "bench="+id, "--wait=false"); err != nil {
		return fmt.Errorf("delete pods bench=%s: %w: %s", id, err, out)
	}
	return poll(3*time.Minute, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		for _, a := range c.nodes {
			pods, err := c.api.podsOnNode(ctx, a.name)
			if err != nil || len(pods) > 0 {
				return false, fmt.Errorf("%d pods left on %s (%v)", len(pods), a.name, err)
			}
			ids, err := c.containers(a)
			if err != nil || len(ids) > 0 {
				return false, fmt.Errorf("%d containers left on %s (%v)", len(ids), a.name, err)
			}
		}
		return true, nil
	})
}

// phases are per-pod durations read from the agent's debug log.
type phases struct {
	bound      []time.Duration // create call start → watch event of the pod bound (API + scheduler)
	dispatch   []time.Duration // bound → first sync of the pod (agent watch + work queue wait)
	sandbox    []time.Duration // sync start → sandbox created (netns + CNI ADD)
	create     []time.Duration // sandbox created → container created
	taskCreate []time.Duration // container start → containerd's /tasks/create (shim start, runc create)
	taskStart  []time.Duration // /tasks/create → /tasks/start (runc start)
	status     []time.Duration // /tasks/start → sync end (task status, status write)
}

// agentPhases reads the agent's debug lines about r's pods. The log's
// timestamps have millisecond precision.
func agentPhases(logPath, eventsPath string, r *batch) phases {
	var ph phases
	f, err := os.Open(logPath)
	if err != nil {
		return ph
	}
	defer f.Close()
	tasks := readTaskEvents(eventsPath)
	type marks struct {
		syncStart, sandbox, created, start, syncEnd time.Time
		id                                          string
	}
	seen := map[string]*marks{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "pod="+testNS+"/bench-"+r.id+"-") {
			continue
		}
		name := strings.TrimPrefix(logField(line, "pod"), testNS+"/")
		at, err := time.Parse(time.RFC3339Nano, logField(line, "time"))
		if err != nil || at.Before(r.began.Truncate(time.Millisecond)) {
			continue
		}
		m := seen[name]
		if m == nil {
			m = &marks{}
			seen[name] = m
		}
		set := func(t *time.Time) {
			if t.IsZero() {
				*t = at
			}
		}
		switch logField(line, "msg") {
		case "sync pod start":
			set(&m.syncStart)
		case "sandbox created":
			set(&m.sandbox)
		case "container created":
			set(&m.created)
			if m.id == "" {
				m.id = logField(line, "id")
			}
		case "container start":
			set(&m.start)
		case "sync pod end":
			if !m.start.IsZero() {
				set(&m.syncEnd)
			}
		}
	}
	for name, m := range seen {
		if m.syncStart.IsZero() || m.sandbox.IsZero() || m.created.IsZero() || m.start.IsZero() || m.syncEnd.IsZero() {
			continue
		}
		ph.bound = append(ph.bound, r.boundAt[name].Sub(r.createStart[name]))
		ph.dispatch = append(ph.dispatch, m.syncStart.Sub(r.boundAt[name]))
		ph.sandbox = append(ph.sandbox, m.sandbox.Sub(m.syncStart))
		ph.create = append(ph.create, m.created.Sub(m.sandbox))
		if t, ok := tasks[m.id]; ok && !t.created.IsZero() && !t.started.IsZero() {
			ph.taskCreate = append(ph.taskCreate, t.created.Sub(m.start))
			ph.taskStart = append(ph.taskStart, t.started.Sub(t.created))
			ph.status = append(ph.status, m.syncEnd.Sub(t.started))
		}
	}
	return ph
}

// taskEvents is a container's task lifecycle as containerd published it.
type taskEvents struct{ created, started time.Time }

// eventRecorder is `ctr events` run against a node's containerd.
type eventRecorder struct {
	*proc
}

// recordTaskEvents runs `ctr events` against a's containerd, logging to a
// file of the cluster, until stopped.
func (c *cluster) recordTaskEvents(a *agentHost) (eventRecorder, error) {
	sock, err := a.containerdSocket()
	if err != nil {
		return eventRecorder{}, err
	}
	p, err := startProc(a.host, "ctr-events", filepath.Join(c.dir, a.name+"-events.log"), "ctr", "--address", sock, "events")
	if err != nil {
		return eventRecorder{}, err
	}
	time.Sleep(300 * time.Millisecond) // let it subscribe
	return eventRecorder{p}, nil
}

// readTaskEvents reads the /tasks/create and /tasks/start events of a
// `ctr events` log ("<time> <namespace> <topic> <json>") by container id.
func readTaskEvents(path string) map[string]taskEvents {
	out := map[string]taskEvents{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, " ", 7)
		if len(f) < 7 || (f[5] != "/tasks/create" && f[5] != "/tasks/start") {
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", strings.Join(f[:4], " "))
		if err != nil {
			continue
		}
		var ev struct {
			ContainerID string `json:"container_id"`
		}
		if json.Unmarshal([]byte(f[6]), &ev) != nil {
			continue
		}
		t := out[ev.ContainerID]
		if f[5] == "/tasks/create" {
			t.created = at
		} else {
			t.started = at
		}
		out[ev.ContainerID] = t
	}
	return out
}

// logField is the value of key in a slog text line ("" when absent).
func logField(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		if !strings.HasPrefix(line, key+"=") {
			return ""
		}
		i = -1
	}
	v := line[i+len(key)+2:]
	if strings.HasPrefix(v, `"`) {
		if s, err := strconv.QuotedPrefix(v); err == nil {
			u, _ := strconv.Unquote(s)
			return u
		}
	}
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v
}

func reportPercentiles(b *testing.B, what string, d []time.Duration) {
	b.ReportMetric(ms(percentile(d, 50)), "p50-"+what+"-ms")
	b.ReportMetric(ms(percentile(d, 99)), "p99-"+what+"-ms")
}

// percentile is the nearest-rank p-th percentile of d.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := (len(s)*p + 99) / 100
	return s[max(k, 1)-1]
}

func medP99(d []time.Duration) string {
	return fmt.Sprintf("%.0f ms (%.0f)", ms(percentile(d, 50)), ms(percentile(d, 99)))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// procMem is resident memory from /proc/<pid>/status (VmRSS, RssAnon)
// and /proc/<pid>/smaps_rollup (Pss: shared pages divided among the
// processes mapping them), in kB.
type procMem struct{ rss, anon, pss int64 }

func (m procMem) rssMB() float64  { return float64(m.rss) / 1024 }
func (m procMem) anonMB() float64 { return float64(m.anon) / 1024 }
func (m procMem) pssMB() float64  { return float64(m.pss) / 1024 }

func (m *procMem) add(o procMem) { m.rss, m.anon, m.pss = m.rss+o.rss, m.anon+o.anon, m.pss+o.pss }

// nodeMem is the memory of a node's processes.
type nodeMem struct {
	agent, containerd, shims procMem
	nShims                   int
}

// nodeMemory reads the resident memory of a's agent, of the containerd
// it started (its child) and of every containerd shim serving that
// containerd (found by the socket path, under a's data dir, on the
// shim's command line).
func nodeMemory(a *agentHost) (nodeMem, error) {
	var m nodeMem
	agent, err := readProcMem(a.proc.pid)
	if err != nil {
		return m, fmt.Errorf("agent memory: %w", err)
	}
	m.agent = agent
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return m, err
	}
	foundContainerd := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		comm, ppid := statCommAndParent(string(stat))
		switch {
		case comm == "containerd" && ppid == a.proc.pid:
			if pm, err := readProcMem(pid); err == nil {
				m.containerd, foundContainerd = pm, true
			}
		case strings.HasPrefix(comm, "containerd-shim"):
			cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if !strings.Contains(string(cmdline), a.dataDir+"/") {
				continue
			}
			if pm, err := readProcMem(pid); err == nil {
				m.shims.add(pm)
				m.nShims++
			}
		}
	}
	if !foundContainerd {
		return m, fmt.Errorf("no containerd child of the agent (pid %d)", a.proc.pid)
	}
	return m, nil
}

// statCommAndParent parses the command name and parent PID out of
// /proc/<pid>/stat (the name is in parentheses and may hold spaces).
func statCommAndParent(stat string) (string, int) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", 0
	}
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 2 {
		return "", 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return stat[open+1 : end], ppid
}

func readProcMem(pid int) (procMem, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procMem{}, err
	}
	var m procMem
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = v
		case "RssAnon:":
			m.anon = v
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("pid %d: no VmRSS", pid)
	}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "Pss:" {
				m.pss, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return m, nil
}
