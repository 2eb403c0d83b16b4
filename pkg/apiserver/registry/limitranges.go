package registry

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func limitRangesResource() *Resource {
	return &Resource{
		Version: "v1", Name: "limitranges", Singular: "limitrange", Kind: "LimitRange",
		ShortNames: []string{"limits"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.LimitRange{} },
		NewList:      func() runtime.Object { return &corev1.LimitRangeList{} },
		NoGeneration: true,

		Default:  typedMutate(defaultLimitRange),
		Validate: typedValidate(validateLimitRange),
		ValidateUpdate: typedValidateUpdate(func(lr, _ *corev1.LimitRange) field.ErrorList {
			return validateLimitRange(lr)
		}),
		Table: createdAtTable(),
	}
}

// defaultLimitRange fills container items: default limit from max,
// default request from the default limit, then from min.
func defaultLimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		it := &lr.Spec.Limits[i]
		if it.Type != corev1.LimitTypeContainer {
			continue
		}
		if it.Default == nil {
			it.Default = corev1.ResourceList{}
		}
		if it.DefaultRequest == nil {
			it.DefaultRequest = corev1.ResourceList{}
		}
		fill := func(dst, src corev1.ResourceList) {
			for name, q := range src {
				if _, ok := dst[name]; !ok {
					dst[name] = q.DeepCopy()
				}
			}
		}
		fill(it.Default, it.Max)
		fill(it.DefaultRequest, it.Default)
		fill(it.DefaultRequest, it.Min)
	}
}

func validateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	seenTypes := map[corev1.LimitType]bool{}
	for i, it := range lr.Spec.Limits {
		p := field.NewPath("spec", "limits").Index(i)
		errs = append(errs, validateEnum(it.Type, p.Child("type"),
			corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim, corev1.LimitTypePod)...)
		if seenTypes[it.Type] {
			errs = append(errs, field.Duplicate(p.Child("type"), it.Type))
		}
		seenTypes[it.Type] = true
		for _, l := range []struct {
			name string
			list corev1.ResourceList
		}{{"max", it.Max}, {"min", it.Min}, {"default", it.Default}, {"defaultRequest", it.DefaultRequest}, {"maxLimitRequestRatio", it.MaxLimitRequestRatio}} {
			errs = append(errs, validateResourceList(l.list, p.Child(l.name))...)
		}
		if it.Type == corev1.LimitTypePod {
			if len(it.Default) > 0 {
				errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(it.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		}
		errs = append(errs, validateLimitOrder(it, p)...)
	}
	return errs
}

// validateLimitOrder requires min <= defaultRequest <= default <= max and
// a ratio of at least 1.
func validateLimitOrder(it corev1.LimitRangeItem, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedResourceNames(it.Min) {
		min := it.Min[name]
		if max, ok := it.Max[name]; ok && min.Cmp(max) > 0 {
			errs = append(errs, field.Invalid(p.Child("min").Key(string(name)), min.String(),
				fmt.Sprintf("min value %s is greater than max value %s", min.String(), max.String())))
		}
		if dr, ok := it.DefaultRequest[name]; ok && min.Cmp(dr) > 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(string(name)), dr.String(),
				fmt.Sprintf("min value %s is greater than default request value %s", min.String(), dr.String())))
		}
	}
	for _, name := range sortedResourceNames(it.Default) {
		def := it.Default[name]
		if max, ok := it.Max[name]; ok && def.Cmp(max) > 0 {
			errs = append(errs, field.Invalid(p.Child("default").Key(string(name)), def.String(),
				fmt.Sprintf("default value %s is greater than max value %s", def.String(), max.String())))
		}
		if dr, ok := it.DefaultRequest[name]; ok && dr.Cmp(def) > 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(string(name)), dr.String(),
				fmt.Sprintf("default request value %s is greater than default limit value %s", dr.String(), def.String())))
		}
	}
	for _, name := range sortedResourceNames(it.MaxLimitRequestRatio) {
		ratio := it.MaxLimitRequestRatio[name]
		if ratio.CmpInt64(1) < 0 {
			errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(string(name)), ratio.String(),
				fmt.Sprintf("ratio %s is less than 1", ratio.String())))
		}
	}
	return errs
}
