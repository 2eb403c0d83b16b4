package registry

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// GroupResources returns the resources of the named API groups (apps,
// batch, coordination, discovery, autoscaling, scheduling, storage,
// policy, rbac), in discovery order.
func GroupResources() []*Resource {
	return []*Resource{
		deploymentsResource(),
		replicaSetsResource(),
		daemonSetsResource(),
		statefulSetsResource(),
		controllerRevisionsResource(),
		jobsResource(),
		cronJobsResource(),
		leasesResource(),
		endpointSlicesResource(),
		horizontalPodAutoscalersResource(),
		priorityClassesResource(),
		storageClassesResource(),
		podDisruptionBudgetsResource(),
		clusterRoleBindingsResource(),
		clusterRolesResource(),
		roleBindingsResource(),
		rolesResource(),
	}
}

// The helpers below are shared by the workload resources of this file's
// siblings (deployments, replicasets, daemonsets, statefulsets, jobs).

// validateControllerSelector checks the selector of a workload: required,
// well formed and not empty ("empty selector is invalid for <kind>").
func validateControllerSelector(sel *metav1.LabelSelector, kind string, path *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(path, "")}
	}
	errs := metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, path)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(path, sel, "empty selector is invalid for "+kind))
	}
	return errs
}

// validateSelectorMatchesTemplate reports the template labels as invalid
// when a non-empty selector does not select them. templatePath is the
// path of the pod template (spec.template).
func validateSelectorMatchesTemplate(sel *metav1.LabelSelector, tmplLabels map[string]string, templatePath *field.Path) field.ErrorList {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || selector.Empty() {
		return nil
	}
	if !selector.Matches(labels.Set(tmplLabels)) {
		return field.ErrorList{field.Invalid(templatePath.Child("metadata", "labels"), tmplLabels, "`selector` does not match template `labels`")}
	}
	return nil
}

// validateLongRunningTemplate checks what controllers of long-running pods
// require of their template: restartPolicy Always and no
// activeDeadlineSeconds. kind names the controller in the message.
func validateLongRunningTemplate(spec *corev1.PodSpec, kind string, templatePath *field.Path) field.ErrorList {
	var errs field.ErrorList
	specPath := templatePath.Child("spec")
	if spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(specPath.Child("restartPolicy"), spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(specPath.Child("activeDeadlineSeconds"), "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}

// validateIntOrPercent checks a non-negative integer or a percentage
// ("25%"); max100 also rejects percentages above 100.
func validateIntOrPercent(v intstr.IntOrString, path *field.Path, max100 bool) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(path, v, msg))
		}
		if pct, ok := percentValue(v); ok && max100 && pct > 100 {
			errs = append(errs, field.Invalid(path, v, "must not be greater than 100%"))
		}
	case intstr.Int:
		errs = append(errs, validateNonnegative(int64(v.IntValue()), path)...)
	default:
		errs = append(errs, field.Invalid(path, v, "must be an integer or percentage (e.g '5%%')"))
	}
	return errs
}

// percentValue returns the number of a valid percentage string.
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n, err == nil
}

// intOrPercentIsZero reports whether v is 0 or "0%".
func intOrPercentIsZero(v *intstr.IntOrString) bool {
	if v == nil {
		return true
	}
	if pct, ok := percentValue(*v); ok {
		return pct == 0
	}
	return v.Type == intstr.Int && v.IntValue() == 0
}

// validateImmutableSelector is the apps/v1 rule that a workload's selector
// never changes after creation.
func validateImmutableSelector(sel, oldSel *metav1.LabelSelector) field.ErrorList {
	return validateImmutable(sel, oldSel, field.NewPath("spec", "selector"))
}

// containerCells lays out the CONTAINERS and IMAGES cells of `-o wide`.
func containerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	i := make([]string, len(containers))
	for k, c := range containers {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// readyOfDesired renders "ready/desired" (READY of deployments and
// statefulsets).
func readyOfDesired(ready int32, desired *int32) string {
	d := int32(0)
	if desired != nil {
		d = *desired
	}
	return fmt.Sprintf("%d/%d", ready, d)
}

// workloadColumns are the `-o wide` columns of pod-template controllers.
func workloadColumns(selectorDoc string) []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		tableColumn("Containers", "string", "Names of each container in the template.", 1),
		tableColumn("Images", "string", "Images referenced by each container in the template.", 1),
	}
	if selectorDoc != "" {
		cols = append(cols, tableColumn("Selector", "string", selectorDoc, 1))
	}
	return cols
}

// replicaScale builds the scale subresource access of a workload whose
// replica count lives in spec.replicas.
func replicaScale[T runtime.Object](get func(T) (spec *int32, status int32, sel *metav1.LabelSelector), set func(T, int32)) *ScaleAccess {
	return &ScaleAccess{
		Get: func(obj runtime.Object) (int32, int32, string) {
			t, ok := obj.(T)
			if !ok {
				return 0, 0, ""
			}
			spec, status, sel := get(t)
			desired := int32(0)
			if spec != nil {
				desired = *spec
			}
			return desired, status, metav1.FormatLabelSelector(sel)
		},
		SetReplicas: func(obj runtime.Object, replicas int32) {
			if t, ok := obj.(T); ok {
				set(t, replicas)
			}
		},
	}
}

// validateNonnegatives checks several non-negative counters under path.
func validateNonnegatives(path *field.Path, values map[string]int64) field.ErrorList {
	var errs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(values)) {
		errs = append(errs, validateNonnegative(values[name], path.Child(name))...)
	}
	return errs
}

// notGreaterThan reports path as invalid when value > limit.
func notGreaterThan(value, limit int32, path *field.Path, limitName string) field.ErrorList {
	if value > limit {
		return field.ErrorList{field.Invalid(path, value, "cannot be greater than "+limitName)}
	}
	return nil
}
