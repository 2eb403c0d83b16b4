package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodTemplates(t *testing.T) {
	r := coreResource(t, "podtemplates")
	pt := &corev1.PodTemplate{ObjectMeta: objectMeta("tmpl"), Template: podTemplate(map[string]string{"app": "web"}, "")}
	pt.Template.Spec.Containers = append(pt.Template.Spec.Containers, corev1.Container{Name: "log", Image: "busybox"})
	if errs := createErrors(r, pt); len(errs) != 0 {
		t.Fatalf("valid template rejected: %v", errs)
	}
	spec := pt.Template.Spec
	if spec.RestartPolicy != corev1.RestartPolicyAlways || spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("template not defaulted: %+v", spec)
	}
	if spec.ServiceAccountName != "" || spec.EnableServiceLinks != nil {
		t.Errorf("pod-only defaults in a template: %+v", spec)
	}
	if diff := cmp.Diff([]string{"NAME", "CONTAINERS", "IMAGES", "POD LABELS"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	checkRow(t, r, pt, []any{"tmpl", "web,log", "nginx:1.27,busybox", "app=web"})

	bad := mutated(pt, func(p *corev1.PodTemplate) {
		p.Template.ObjectMeta = metav1.ObjectMeta{Annotations: map[string]string{"bad key": "x"}}
		p.Template.Spec.Containers[1].Name = "web"
	})
	checkErrors(t, "invalid template", r.Validate(bad), []string{
		"template.metadata.annotations: Invalid value: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
		"template.spec.containers[1].name: Duplicate value: ",
	})
}
