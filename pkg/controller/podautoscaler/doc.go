// Package podautoscaler is the HorizontalPodAutoscaler controller
// (autoscaling/v2): every sync period it reads each autoscaler's target
// through the /scale subresource, the usage of the target's pods from the
// resource metrics API (metrics.k8s.io) and their requests, computes the
// replica count Kubernetes would (usage ratio with a 10% tolerance,
// missing and not-ready pods handled conservatively, stabilization windows
// and rate limits of spec.behavior, min/max replicas), writes it to the
// scale subresource and reports status, conditions and Events.
//
// It owns HorizontalPodAutoscaler status and the replicas it writes
// through /scale; it never edits pods or the targets' specs otherwise.
// Only Resource metrics are supported; other metric types make the
// autoscaler report ScalingActive=False.
package podautoscaler
