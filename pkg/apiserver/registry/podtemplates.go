package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func podTemplatesResource() *Resource {
	return &Resource{
		Version: "v1", Name: "podtemplates", Singular: "podtemplate", Kind: "PodTemplate",
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.PodTemplate{} },
		NewList:    func() runtime.Object { return &corev1.PodTemplateList{} },

		Default: typedMutate(func(t *corev1.PodTemplate) { DefaultPodSpec(&t.Template.Spec) }),
		Validate: typedValidate(func(t *corev1.PodTemplate) field.ErrorList {
			return ValidatePodTemplateSpec(&t.Template, field.NewPath("template"))
		}),
		ValidateUpdate: typedValidateUpdate(func(t, _ *corev1.PodTemplate) field.ErrorList {
			return ValidatePodTemplateSpec(&t.Template, field.NewPath("template"))
		}),
		Table: &Table{
			Columns: []metav1.TableColumnDefinition{
				nameColumn(),
				tableColumn("Containers", "string", "Names of each container in the template.", 0),
				tableColumn("Images", "string", "Images referenced by each container in the template.", 0),
				tableColumn("Pod Labels", "string", "The labels for the pod template.", 0),
			},
			Row: tableRow(func(t *corev1.PodTemplate) []any {
				var names, images []string
				for _, c := range t.Template.Spec.Containers {
					names = append(names, c.Name)
					images = append(images, c.Image)
				}
				return []any{t.Name, strings.Join(names, ","), strings.Join(images, ","), labels.FormatLabels(t.Template.Labels)}
			}),
		},
	}
}
