// Package server is the node agent's streaming API, the kubelet API of a
// tug node: container logs, exec, attach, port-forward, the stats summary
// and a health check, served over HTTPS (default port 10250).
//
// Only the API server calls it: a request must present a client
// certificate signed by the cluster CA with the common name tug:apiserver;
// anything else is refused (401 without a verified certificate, 403 for
// another identity). The serving certificate is self-signed and kept in
// the agent's data directory; the API server does not verify it, as
// Kubernetes' API server does not verify kubelets by default.
//
// The package reads containers through the runtime interfaces
// (runtime.LogReader, runtime.StreamExecer, runtime.Attacher,
// runtime.StatsProvider) and never touches the agent's pod workers. Exec
// and attach speak SPDY (channel protocols v1-v4) and WebSocket (v4 and
// v5.channel.k8s.io); port-forward speaks SPDY, WebSocket v4 and SPDY
// tunnelled over WebSocket (SPDY/3.1+portforward.k8s.io), so current
// kubectl and client-go work with or without their WebSocket fallbacks.
package server
