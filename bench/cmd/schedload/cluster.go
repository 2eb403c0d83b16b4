package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugcluster/tug/bench/internal/benchclient"
	"github.com/tugcluster/tug/bench/internal/tugproc"
)

// serverFlags give the cluster a pod network of 16,384 /24s, so node IPAM
// has a podCIDR for every simulated node.
var serverFlags = []string{"--pod-cidr", "10.64.0.0/10", "--node-cidr-mask-size", "24"}

// runCluster starts a server and n simulated nodes, runs the scenarios and
// stops both processes.
func runCluster(ctx context.Context, c config, n int) (err error) {
	root, err := os.MkdirTemp("", "tug-schedload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	serverDir, agentDir := filepath.Join(root, "server"), filepath.Join(root, "agent")
	for _, d := range []string{serverDir, agentDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	flags := serverFlags
	if c.profileDir != "" {
		flags = append(flags[:len(flags):len(flags)], "--profiling")
	}
	srv, err := tugproc.StartServer(c.bin, serverDir, flags...)
	if err != nil {
		return err
	}
	defer stopProcess(srv.Process, "server", &err)
	if _, err := srv.WaitReady(ctx); err != nil {
		return err
	}
	token, err := os.ReadFile(filepath.Join(serverDir, "token"))
	if err != nil {
		return fmt.Errorf("server token: %w", err)
	}
	agentStart := time.Now()
	agent, err := tugproc.Start(c.bin, "agent", "--simulate", strconv.Itoa(n), "--server", srv.URL,
		"--token", strings.TrimSpace(string(token)), "--ca-file", filepath.Join(serverDir, "pki", "ca.crt"),
		"--data-dir", agentDir, "--log-level", "warn")
	if err != nil {
		return err
	}
	defer stopProcess(agent, "agent", &err)

	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(serverDir, "admin.kubeconfig"))
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	clients, err := benchclient.NewN(ctx, cfg, c.workers+1)
	if err != nil {
		return err
	}
	if err := waitNodesReady(ctx, clients[0], n, c.readyTimeout, agent); err != nil {
		return err
	}
	fmt.Printf("## %d simulated nodes\n%d nodes Ready %.1f s after the agent started\n\n", n, n, time.Since(agentStart).Seconds())

	mon := startMonitor(ctx, clients[0], srv.Process, agent)
	var results []scenarioResult
	for _, name := range strings.Split(c.scenarios, ",") {
		sc, _ := parseScenario(name)
		before := cpuNow(srv.Process, agent)
		res, err := runScenario(ctx, c, n, sc, clients)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		after := cpuNow(srv.Process, agent)
		res.cpu = cpuUse{server: after.server - before.server, agent: after.agent - before.agent, load: after.load - before.load}
		results = append(results, res)
	}
	mon.stop()
	printResults(n, c.pods, results)
	mon.print(n)
	return nil
}

// cpuNow reads the processor time used so far by the server, the
// simulated nodes and this program (0 where it cannot be read).
func cpuNow(server, agent *tugproc.Process) cpuUse {
	s, _ := server.CPU()
	a, _ := agent.CPU()
	l, _ := tugproc.ProcessCPU(os.Getpid())
	return cpuUse{server: s, agent: a, load: l}
}

// stopProcess stops p by its process id, keeping the first error.
func stopProcess(p *tugproc.Process, what string, errp *error) {
	if err := p.Stop(30 * time.Second); err != nil && *errp == nil {
		*errp = fmt.Errorf("stop %s: %w", what, err)
	}
}

// waitNodesReady polls the node list every 2 s until want nodes are Ready.
func waitNodesReady(ctx context.Context, cs *kubernetes.Clientset, want int, timeout time.Duration, agent *tugproc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ready := 0
	for {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err == nil {
			ready = 0
			for i := range list.Items {
				if nodeReady(&list.Items[i]) {
					ready++
				}
			}
			if ready >= want {
				return nil
			}
		}
		select {
		case <-agent.Exited():
			return fmt.Errorf("agent exited (%v): %s", agent.ExitErr(), agent.Log())
		case <-ctx.Done():
			return fmt.Errorf("%d/%d nodes Ready: %w; agent log: %s", ready, want, ctx.Err(), agent.Log())
		case <-time.After(2 * time.Second):
		}
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// errTimeout marks a scenario that did not finish in time.
var errTimeout = errors.New("not all pods bound in time")
