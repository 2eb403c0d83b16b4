// Package probes runs container probes (liveness, readiness, startup)
// and lifecycle hooks (postStart, preStop) for the node agent.
//
// A Prober executes one handler: httpGet, tcpSocket and grpc dial the
// pod address from the agent's own network namespace through an
// injectable dialer; exec runs through the runtime's Execer. A Manager
// keeps one worker per probe of each running container, each driven by
// a timer of an injectable clock (no goroutine while idle), applies
// initialDelaySeconds, periodSeconds, timeoutSeconds and the success and
// failure thresholds, and reports changes through a callback so the pod
// worker syncs the pod instead of polling.
//
// The package decides nothing about pods: it does not kill or restart
// containers, write status or talk to the API server. The agent reads
// Manager.Status and acts on it.
package probes
