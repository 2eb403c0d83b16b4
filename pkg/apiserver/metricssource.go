package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// DefaultMetricsResolution is how long a node's usage summary is reused
// before its agent is asked again.
const DefaultMetricsResolution = 15 * time.Second

// maxSummaryBytes bounds what is read from one agent's summary.
const maxSummaryBytes = 32 << 20

// summaryCache holds the latest /stats/summary of each node for one
// resolution period, so kubectl top and the autoscaler asking often cost
// each agent one request per period. Concurrent callers for one node share
// a single request.
type summaryCache struct {
	ttl   time.Duration
	now   func() time.Time
	fetch func(ctx context.Context, node *corev1.Node) (*statsapi.Summary, error)

	mu      sync.Mutex
	entries map[string]*summaryEntry
}

type summaryEntry struct {
	done chan struct{} // closed once sum/err are set
	at   time.Time
	sum  *statsapi.Summary
	err  error
}

func newSummaryCache(ttl time.Duration, fetch func(context.Context, *corev1.Node) (*statsapi.Summary, error)) *summaryCache {
	return &summaryCache{ttl: ttl, now: time.Now, fetch: fetch, entries: map[string]*summaryEntry{}}
}

// get returns the node's summary, fetching it when the cached one is
// older than the resolution. Failures are not cached.
func (c *summaryCache) get(ctx context.Context, node *corev1.Node) (*statsapi.Summary, error) {
	c.mu.Lock()
	e, ok := c.entries[node.Name]
	fresh := ok && (!isClosed(e.done) || c.now().Sub(e.at) < c.ttl)
	if !fresh {
		e = &summaryEntry{done: make(chan struct{})}
		c.entries[node.Name] = e
		// The fetch outlives any one caller (others may wait on it), so it
		// runs on its own: a caller whose request ends returns at once
		// instead of holding its request, and the server's shutdown, for
		// up to the fetch timeout.
		go c.fill(context.WithoutCancel(ctx), node, e)
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.sum, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill fetches one node's summary into e and publishes it.
func (c *summaryCache) fill(ctx context.Context, node *corev1.Node, e *summaryEntry) {
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	sum, err := c.fetch(fctx, node)
	cancel()
	c.mu.Lock()
	e.sum, e.err, e.at = sum, err, c.now()
	if err != nil && c.entries[node.Name] == e {
		delete(c.entries, node.Name)
	}
	close(e.done)
	c.mu.Unlock()
}

// forget drops nodes that are gone, so the cache does not grow forever.
func (c *summaryCache) forget(keep map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.entries {
		if !keep[name] {
			delete(c.entries, name)
		}
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// fetchSummary asks a node's agent for its usage summary, with the same
// client certificate and address the streaming proxy uses.
func (s *Server) fetchSummary(ctx context.Context, node *corev1.Node) (*statsapi.Summary, error) {
	addr, err := agentAddressOf(node)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/stats/summary", nil)
	if err != nil {
		return nil, fmt.Errorf("summary of node %s: %w", node.Name, err)
	}
	resp, err := (&http.Client{Transport: s.kubelet}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("summary of node %s: %w", node.Name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSummaryBytes))
	if err != nil {
		return nil, fmt.Errorf("summary of node %s: %w", node.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("summary of node %s: agent answered %s", node.Name, resp.Status)
	}
	sum := &statsapi.Summary{}
	if err := json.Unmarshal(data, sum); err != nil {
		return nil, fmt.Errorf("summary of node %s: %w", node.Name, err)
	}
	return sum, nil
}

// summaries fetches the summaries of several nodes in parallel; nodes
// that cannot be reached are left out.
func (s *Server) summaries(ctx context.Context, nodes []*corev1.Node) map[string]*statsapi.Summary {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = make(map[string]*statsapi.Summary, len(nodes))
		sem = make(chan struct{}, 16)
	)
	for _, n := range nodes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sum, err := s.metrics.get(ctx, n)
			if err != nil {
				return
			}
			mu.Lock()
			out[n.Name] = sum
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
