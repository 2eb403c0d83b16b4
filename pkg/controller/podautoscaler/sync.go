package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// sync evaluates one autoscaler and schedules its next evaluation.
func (hc *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := hc.hpaLister.HorizontalPodAutoscalers(ns).Get(name)
	if apierrors.IsNotFound(err) {
		hc.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	defer hc.queue.AddAfter(key, hc.period)
	hpa := cached.DeepCopy()
	err = hc.reconcile(ctx, key, hpa)
	if !equality.Semantic.DeepEqual(hpa.Status, cached.Status) {
		if _, uerr := hc.client.AutoscalingV2().HorizontalPodAutoscalers(ns).UpdateStatus(ctx, hpa, metav1.UpdateOptions{}); uerr != nil {
			return errors.Join(err, fmt.Errorf("update status of %s: %w", key, uerr))
		}
	}
	return err
}

// reconcile computes and applies the desired replicas, filling in
// hpa.Status; the error is for retrying, conditions already say it.
func (hc *Controller) reconcile(ctx context.Context, key string, hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	now := hc.now()
	st := &hpa.Status
	ref := hpa.Spec.ScaleTargetRef
	target, err := scaleTargetFor(hc.client, hpa.Namespace, ref)
	var scale *autoscalingv1.Scale
	if err == nil {
		scale, err = target.get(ctx)
	}
	if err != nil {
		msg := fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", err)
		hc.events.Event(hpa, corev1.EventTypeWarning, "FailedGetScale", err.Error())
		setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale", msg, now)
		return nil
	}
	setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale",
		"the HPA controller was able to get the target's current scale", now)
	current := scale.Spec.Replicas
	st.CurrentReplicas = scale.Status.Replicas
	minReplicas := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minReplicas = *hpa.Spec.MinReplicas
	}
	var desired int32
	var reason string
	switch {
	case current == 0 && minReplicas != 0:
		desired = 0
		setCondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled",
			"scaling is disabled since the replica count of the target is zero", now)
	case current > hpa.Spec.MaxReplicas:
		desired, reason = hpa.Spec.MaxReplicas, "Current number of replicas above Spec.MaxReplicas"
		setCondition(st, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "TooManyReplicas",
			"the desired replica count is more than the maximum replica count", now)
	case current < minReplicas:
		desired, reason = minReplicas, "Current number of replicas below Spec.MinReplicas"
		setCondition(st, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "TooFewReplicas",
			"the desired replica count is less than the minimum replica count", now)
	default:
		proposed, metricName, metrics, err := hc.proposeReplicas(ctx, hpa, scale.Status.Selector, current)
		if err != nil {
			reasonCode := "FailedGetResourceMetric"
			var ce *computeError
			if errors.As(err, &ce) {
				reasonCode = ce.reason
			}
			hc.events.Event(hpa, corev1.EventTypeWarning, reasonCode, err.Error())
			setCondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, reasonCode,
				"the HPA was unable to compute the replica count: "+err.Error(), now)
			st.DesiredReplicas = current
			return nil
		}
		st.CurrentMetrics = metrics
		setCondition(st, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound",
			"the HPA was able to successfully calculate a replica count from "+metricName, now)
		desired = hc.normalize(key, hpa, st, current, proposed, minReplicas, now)
		reason = "All metrics below target"
		if desired > current {
			reason = metricName + " above target"
		}
	}
	st.DesiredReplicas = desired
	if desired == current {
		if c := findCondition(st, autoscalingv2.AbleToScale); c == nil || c.Reason == "SucceededGetScale" {
			setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size", now)
		}
		return nil
	}
	scale.Spec.Replicas = desired
	if _, err := target.update(ctx, scale); err != nil {
		hc.events.Eventf(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", desired, reason, err)
		setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale",
			fmt.Sprintf("the HPA controller was unable to update the target scale: %v", err), now)
		return fmt.Errorf("rescale %s to %d: %w", key, desired, err)
	}
	hc.recordScale(key, now, desired-current)
	hc.events.Eventf(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", desired, reason)
	setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale",
		fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired), now)
	t := metav1.NewTime(now)
	st.LastScaleTime = &t
	return nil
}

// computeError is a failure with its condition and Event reason.
type computeError struct {
	reason string
	err    error
}

func (e *computeError) Error() string { return e.err.Error() }
func (e *computeError) Unwrap() error { return e.err }

// proposeReplicas evaluates every metric and keeps the largest proposal,
// returning the description of the metric that won and the current value
// of each.
func (hc *Controller) proposeReplicas(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, selector string,
	current int32) (int32, string, []autoscalingv2.MetricStatus, error) {
	if selector == "" {
		return 0, "", nil, &computeError{"InvalidSelector", errors.New("selector is required")}
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return 0, "", nil, &computeError{"InvalidSelector", fmt.Errorf("couldn't convert selector into a corresponding internal selector object: %w", err)}
	}
	if len(hpa.Spec.Metrics) == 0 {
		return 0, "", nil, &computeError{"FailedGetResourceMetric", errors.New("no metrics are specified")}
	}
	pods, err := hc.podLister.Pods(hpa.Namespace).List(sel)
	if err != nil {
		return 0, "", nil, err
	}
	var (
		best     int32
		bestName string
		statuses []autoscalingv2.MetricStatus
		firstErr error
	)
	for _, m := range hpa.Spec.Metrics {
		if m.Type != autoscalingv2.ResourceMetricSourceType || m.Resource == nil {
			firstErr = cmpErr(firstErr, &computeError{"InvalidMetricSourceType", fmt.Errorf("metric type %q is not supported", m.Type)})
			continue
		}
		rt, err := targetOf(m.Resource, current)
		if err != nil {
			firstErr = cmpErr(firstErr, &computeError{"FailedGetResourceMetric", err})
			continue
		}
		usage, err := hc.metrics.podUsage(ctx, hpa.Namespace, sel, m.Resource.Name)
		if err != nil {
			firstErr = cmpErr(firstErr, &computeError{"FailedGetResourceMetric",
				fmt.Errorf("failed to get %s utilization: %w", m.Resource.Name, err)})
			continue
		}
		p, err := replicasFor(rt, samples(pods, usage, m.Resource.Name))
		if err != nil {
			firstErr = cmpErr(firstErr, &computeError{"FailedGetResourceMetric",
				fmt.Errorf("failed to get %s utilization: %w", m.Resource.Name, err)})
			continue
		}
		ms := autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
			Name: m.Resource.Name,
			Current: autoscalingv2.MetricValueStatus{
				AverageValue:       resource.NewMilliQuantity(p.averageMilli, resource.DecimalSI),
				AverageUtilization: p.utilization,
			},
		}}
		statuses = append(statuses, ms)
		if bestName == "" || p.replicas > best {
			best, bestName = p.replicas, describe(m.Resource)
		}
	}
	if bestName == "" {
		if firstErr == nil {
			firstErr = errors.New("no metric could be evaluated")
		}
		return 0, "", statuses, firstErr
	}
	return best, bestName, statuses, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// describe names a metric the way Kubernetes' Events and conditions do.
func describe(r *autoscalingv2.ResourceMetricSource) string {
	if r.Target.Type == autoscalingv2.UtilizationMetricType {
		return fmt.Sprintf("%s resource utilization (percentage of request)", r.Name)
	}
	return fmt.Sprintf("%s resource", r.Name)
}

func targetOf(r *autoscalingv2.ResourceMetricSource, current int32) (resourceTarget, error) {
	rt := resourceTarget{name: r.Name, tolerance: DefaultTolerance, currentReplica: current}
	switch {
	case r.Target.Type == autoscalingv2.UtilizationMetricType && r.Target.AverageUtilization != nil:
		u := *r.Target.AverageUtilization
		rt.utilization = &u
	case r.Target.Type == autoscalingv2.AverageValueMetricType && r.Target.AverageValue != nil:
		v := r.Target.AverageValue.MilliValue()
		if v <= 0 {
			return rt, fmt.Errorf("invalid average value target for %s", r.Name)
		}
		rt.averageMilli = &v
	default:
		return rt, fmt.Errorf("invalid resource metric source: %s target of type %q is not supported", r.Name, r.Target.Type)
	}
	return rt, nil
}

// samples describes the target's pods for the calculation.
func samples(pods []*corev1.Pod, usage map[string]int64, res corev1.ResourceName) []podSample {
	out := make([]podSample, 0, len(pods))
	for _, p := range pods {
		s := podSample{name: p.Name}
		s.ignored = p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
		s.ready = p.Status.Phase == corev1.PodRunning && podReady(p)
		for _, c := range p.Spec.Containers {
			q, ok := c.Resources.Requests[res]
			if !ok {
				if s.missingRequest == "" {
					s.missingRequest = c.Name
				}
				continue
			}
			s.request += q.MilliValue()
		}
		s.usage, s.hasUsage = usage[p.Name]
		out = append(out, s)
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// normalize applies stabilization, the rate limits and min/max replicas,
// and sets ScalingLimited (and a stabilized AbleToScale) to say which
// applied.
func (hc *Controller) normalize(key string, hpa *autoscalingv2.HorizontalPodAutoscaler, st *autoscalingv2.HorizontalPodAutoscalerStatus,
	current, proposed, minReplicas int32, now time.Time) int32 {
	r := behaviorOf(hpa.Spec.Behavior)
	h := hc.historyOf(key)
	hc.mu.Lock()
	h.recommendations = prune(h.recommendations, now, r.longest())
	stabilized := stabilize(h.recommendations, now, current, proposed, r.upWindow, r.downWindow)
	h.recommendations = append(h.recommendations, recommendation{at: now, replicas: proposed})
	events := append([]scaleEvent(nil), h.events...)
	hc.mu.Unlock()
	if stabilized != proposed {
		if stabilized > proposed {
			setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized",
				"recent recommendations were higher than current one, applying the highest recent recommendation", now)
		} else {
			setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleUpStabilized",
				"recent recommendations were lower than current one, applying the lowest recent recommendation", now)
		}
	}
	desired := stabilized
	limitReason, limitMsg := "DesiredWithinRange", "the desired count is within the acceptable range"
	if desired > current {
		if l := rateLimit(r.up, events, now, current, true); desired > l {
			desired = max(l, current)
			limitReason, limitMsg = "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
	} else if desired < current {
		if l := rateLimit(r.down, events, now, current, false); desired < l {
			desired = min(l, current)
			limitReason, limitMsg = "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
	}
	switch {
	case desired > hpa.Spec.MaxReplicas:
		desired = hpa.Spec.MaxReplicas
		limitReason, limitMsg = "TooManyReplicas", "the desired replica count is more than the maximum replica count"
	case desired < minReplicas:
		desired = minReplicas
		limitReason, limitMsg = "TooFewReplicas", "the desired replica count is less than the minimum replica count"
	}
	status := corev1.ConditionTrue
	if limitReason == "DesiredWithinRange" {
		status = corev1.ConditionFalse
	}
	setCondition(st, autoscalingv2.ScalingLimited, status, limitReason, limitMsg, now)
	return desired
}

// recordScale remembers a change for the rate limits.
func (hc *Controller) recordScale(key string, now time.Time, delta int32) {
	h := hc.historyOf(key)
	hc.mu.Lock()
	defer hc.mu.Unlock()
	keep := h.events[:0]
	for _, e := range h.events {
		if e.at.After(now.Add(-maxPolicyPeriod)) {
			keep = append(keep, e)
		}
	}
	h.events = append(keep, scaleEvent{at: now, delta: delta})
}

// maxPolicyPeriod is the longest period a scaling policy may have.
const maxPolicyPeriod = 1800 * time.Second
