package registry

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func podsResource(o Options) *Resource {
	toleration := o.DefaultTolerationSeconds
	if toleration == 0 {
		toleration = defaultNodeTolerationSeconds
	}
	return &Resource{
		Version: "v1", Name: "pods", Singular: "pod", Kind: "Pod",
		ShortNames: []string{"po"}, Categories: []string{"all"}, Namespaced: true,
		New:     func() runtime.Object { return &corev1.Pod{} },
		NewList: func() runtime.Object { return &corev1.PodList{} },
		Status:  true,

		Default: typedMutate(defaultPod),
		PrepareForCreate: typedMutate(func(pod *corev1.Pod) {
			preparePodForCreate(pod)
			addDefaultNodeTolerations(&pod.Spec, toleration)
		}),
		PrepareForStatusUpdate: typedMutateUpdate(preparePodStatusUpdate),
		Validate:               typedValidate(validatePod),
		ValidateUpdate:         typedValidateUpdate(validatePodUpdate),
		ValidateStatusUpdate:   typedValidateUpdate(validatePodStatusUpdate),
		Fields:                 typedFields(podFields),
		Table:                  podTable(),
		GracefulDeletion:       podGracePeriod,
	}
}

func defaultPod(pod *corev1.Pod) {
	DefaultPodSpec(&pod.Spec)
	defaultPodOnlySpec(&pod.Spec)
}

// preparePodForCreate resets the status: a new pod is Pending, with the
// QoS class its resources give it.
func preparePodForCreate(pod *corev1.Pod) {
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOSClass(&pod.Spec)}
}

// defaultNodeTolerationSeconds is how long a pod stays bound to a node that
// went not-ready or unreachable before it is evicted, unless the pod says
// otherwise (Kubernetes' DefaultTolerationSeconds, 300 s).
const defaultNodeTolerationSeconds int64 = 300

// addDefaultNodeTolerations gives a new pod the NoExecute tolerations for
// the not-ready and unreachable node taints it does not already tolerate,
// as every Kubernetes pod gets them.
func addDefaultNodeTolerations(spec *corev1.PodSpec, tolerationSeconds int64) {
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		tolerated := false
		for _, t := range spec.Tolerations {
			if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
				tolerated = true
				break
			}
		}
		if !tolerated {
			seconds := tolerationSeconds
			spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
				Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds,
			})
		}
	}
}

// preparePodStatusUpdate keeps the QoS class, which only the API server
// computes.
func preparePodStatusUpdate(pod, old *corev1.Pod) {
	if pod.Status.QOSClass == "" {
		pod.Status.QOSClass = old.Status.QOSClass
	}
}

// podQOSClass computes the QoS class from cpu and memory requests and
// limits: BestEffort without any, Guaranteed when every container limits
// both and requests equal limits, Burstable otherwise.
func podQOSClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	var reqs []corev1.ResourceRequirements
	if spec.Resources != nil && (len(spec.Resources.Requests) > 0 || len(spec.Resources.Limits) > 0) {
		reqs = append(reqs, *spec.Resources)
	} else {
		for _, c := range spec.InitContainers {
			reqs = append(reqs, c.Resources)
		}
		for _, c := range spec.Containers {
			reqs = append(reqs, c.Resources)
		}
	}
	hasAny, guaranteed := false, true
	for _, r := range reqs {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := r.Requests[name]
			lim, hasLim := r.Limits[name]
			hasReq = hasReq && !req.IsZero()
			hasLim = hasLim && !lim.IsZero()
			if hasReq || hasLim {
				hasAny = true
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case !hasAny:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	default:
		return corev1.PodQOSBurstable
	}
}

func validatePod(pod *corev1.Pod) field.ErrorList {
	errs := ValidatePodSpec(&pod.Spec, field.NewPath("spec"))
	if len(pod.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "ephemeralContainers"), "cannot be set on create"))
	}
	return errs
}

// podUpdateMessage is the message Kubernetes gives when an update changes
// an immutable part of a pod spec.
const podUpdateMessage = "pod updates may not change fields other than `spec.containers[*].image`," +
	"`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

func validatePodUpdate(pod, old *corev1.Pod) field.ErrorList {
	spec := field.NewPath("spec")
	errs := ValidatePodSpec(&pod.Spec, spec)
	errs = append(errs, validateActiveDeadlineUpdate(pod.Spec.ActiveDeadlineSeconds, old.Spec.ActiveDeadlineSeconds, spec.Child("activeDeadlineSeconds"))...)
	errs = append(errs, validateTolerationsUpdate(pod.Spec.Tolerations, old.Spec.Tolerations, spec.Child("tolerations"))...)
	errs = append(errs, validateSchedulingGatesUpdate(pod.Spec.SchedulingGates, old.Spec.SchedulingGates, spec.Child("schedulingGates"))...)

	// Start from the stored spec, take the fields an update may change
	// from the new one, and require the rest to be equal.
	allowed := old.Spec.DeepCopy()
	if len(allowed.Containers) == len(pod.Spec.Containers) {
		for i := range allowed.Containers {
			allowed.Containers[i].Image = pod.Spec.Containers[i].Image
		}
	}
	if len(allowed.InitContainers) == len(pod.Spec.InitContainers) {
		for i := range allowed.InitContainers {
			allowed.InitContainers[i].Image = pod.Spec.InitContainers[i].Image
		}
	}
	allowed.ActiveDeadlineSeconds = pod.Spec.ActiveDeadlineSeconds
	allowed.Tolerations = pod.Spec.Tolerations
	allowed.SchedulingGates = pod.Spec.SchedulingGates
	if g := old.Spec.TerminationGracePeriodSeconds; g != nil && *g < 0 && pod.Spec.TerminationGracePeriodSeconds != nil && *pod.Spec.TerminationGracePeriodSeconds == 1 {
		allowed.TerminationGracePeriodSeconds = pod.Spec.TerminationGracePeriodSeconds
	}
	if len(old.Spec.SchedulingGates) > 0 && nodeSelectorOnlyAdds(pod.Spec.NodeSelector, old.Spec.NodeSelector) {
		// A pod still gated may gain node selector terms.
		allowed.NodeSelector = pod.Spec.NodeSelector
	}
	if !apiequality.Semantic.DeepEqual(*allowed, pod.Spec) {
		changed := changedSpecFields(allowed, &pod.Spec)
		errs = append(errs, field.Forbidden(spec, podUpdateMessage+"\n  changed: "+strings.Join(changed, ", ")))
	}
	return errs
}

// changedSpecFields names the top-level spec fields that differ, by
// their JSON names.
func changedSpecFields(a, b *corev1.PodSpec) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var changed []string
	for i := 0; i < va.NumField(); i++ {
		if apiequality.Semantic.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			continue
		}
		name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
		changed = append(changed, "`spec."+name+"`")
	}
	return changed
}

func nodeSelectorOnlyAdds(newSel, oldSel map[string]string) bool {
	for k, v := range oldSel {
		if nv, ok := newSel[k]; !ok || nv != v {
			return false
		}
	}
	return true
}

func validateActiveDeadlineUpdate(newVal, oldVal *int64, p *field.Path) field.ErrorList {
	switch {
	case oldVal == nil:
		return nil
	case newVal == nil:
		return field.ErrorList{field.Invalid(p, newVal, "must not update from a positive integer to nil value")}
	case *newVal > *oldVal:
		return field.ErrorList{field.Invalid(p, *newVal, "must be less than or equal to previous value")}
	}
	return nil
}

// validateTolerationsUpdate allows new tolerations and a shorter
// tolerationSeconds on NoExecute ones, nothing else.
func validateTolerationsUpdate(newTols, oldTols []corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, o := range oldTols {
		found := false
		for _, n := range newTols {
			if n.Key != o.Key || n.Operator != o.Operator || n.Value != o.Value || n.Effect != o.Effect {
				continue
			}
			if reflect.DeepEqual(n.TolerationSeconds, o.TolerationSeconds) ||
				(o.Effect == corev1.TaintEffectNoExecute && n.TolerationSeconds != nil &&
					(o.TolerationSeconds == nil || *n.TolerationSeconds <= *o.TolerationSeconds)) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, field.Forbidden(p.Index(i), "existing toleration can not be modified except its tolerationSeconds"))
		}
	}
	return errs
}

func validateSchedulingGatesUpdate(newGates, oldGates []corev1.PodSchedulingGate, p *field.Path) field.ErrorList {
	old := map[string]bool{}
	for _, g := range oldGates {
		old[g.Name] = true
	}
	for _, g := range newGates {
		if !old[g.Name] {
			return field.ErrorList{field.Forbidden(p, "only deletion is allowed, but found new scheduling gate '"+g.Name+"'")}
		}
	}
	return nil
}

func isPodTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

func validatePodStatusUpdate(pod, old *corev1.Pod) field.ErrorList {
	status := field.NewPath("status")
	var errs field.ErrorList
	if pod.Status.Phase != "" {
		errs = append(errs, validateEnum(pod.Status.Phase, status.Child("phase"),
			corev1.PodFailed, corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodUnknown)...)
	}
	if isPodTerminal(old.Status.Phase) && pod.Status.Phase != old.Status.Phase {
		errs = append(errs, field.Forbidden(status.Child("phase"),
			fmt.Sprintf("cannot transition from terminal phase %q to %q", old.Status.Phase, pod.Status.Phase)))
	}
	if old.Status.QOSClass != "" {
		errs = append(errs, validateImmutable(pod.Status.QOSClass, old.Status.QOSClass, status.Child("qosClass"))...)
	}
	if pod.Status.PodIP != "" {
		errs = append(errs, validation.IsValidIP(status.Child("podIP"), pod.Status.PodIP)...)
	}
	for i, ip := range pod.Status.PodIPs {
		errs = append(errs, validation.IsValidIP(status.Child("podIPs").Index(i).Child("ip"), ip.IP)...)
	}
	if len(pod.Status.PodIPs) > 0 && pod.Status.PodIP != "" && pod.Status.PodIPs[0].IP != pod.Status.PodIP {
		errs = append(errs, field.Invalid(status.Child("podIPs").Index(0).Child("ip"), pod.Status.PodIPs[0].IP, "must match status.podIP"))
	}
	if pod.Status.HostIP != "" {
		errs = append(errs, validation.IsValidIP(status.Child("hostIP"), pod.Status.HostIP)...)
	}
	errs = append(errs, validateOptionalSubdomain(pod.Status.NominatedNodeName, status.Child("nominatedNodeName"))...)
	for _, list := range []struct {
		name     string
		statuses []corev1.ContainerStatus
	}{
		{"initContainerStatuses", pod.Status.InitContainerStatuses},
		{"containerStatuses", pod.Status.ContainerStatuses},
		{"ephemeralContainerStatuses", pod.Status.EphemeralContainerStatuses},
	} {
		for i, cs := range list.statuses {
			errs = append(errs, validateNonnegative(int64(cs.RestartCount), status.Child(list.name).Index(i).Child("restartCount"))...)
		}
	}
	return errs
}

func podFields(pod *corev1.Pod) fields.Set {
	podIP := pod.Status.PodIP
	if podIP == "" && len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	return fields.Set{
		"spec.nodeName":            pod.Spec.NodeName,
		"spec.restartPolicy":       string(pod.Spec.RestartPolicy),
		"spec.schedulerName":       pod.Spec.SchedulerName,
		"spec.serviceAccountName":  pod.Spec.ServiceAccountName,
		"spec.hostNetwork":         boolField(pod.Spec.HostNetwork),
		"status.phase":             string(pod.Status.Phase),
		"status.podIP":             podIP,
		"status.nominatedNodeName": pod.Status.NominatedNodeName,
	}
}

// podGracePeriod is the grace period of a pod delete: the requested one,
// else the pod's terminationGracePeriodSeconds (30 by default); 0 for a
// pod never scheduled or already terminal, whose processes are not
// running anywhere.
func podGracePeriod(obj runtime.Object, requested *int64) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return 0
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if requested != nil {
		grace = *requested
	} else if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || isPodTerminal(pod.Status.Phase) {
		return 0
	}
	if grace < 0 {
		grace = 1
	}
	return grace
}
