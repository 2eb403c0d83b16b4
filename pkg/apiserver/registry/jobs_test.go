package registry

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
)

func testJob() *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: objectMeta("pi"),
		Spec:       batchv1.JobSpec{Template: podTemplate(nil, corev1.RestartPolicyNever)},
	}
}

func TestJobDefaults(t *testing.T) {
	r := groupResource(t, "jobs")
	cases := []struct {
		name                  string
		mutate                func(*batchv1.Job)
		completions, parallel *int32
		backoff               int32
		replacement           batchv1.PodReplacementPolicy
	}{
		{"plain", func(*batchv1.Job) {}, ptr.To[int32](1), ptr.To[int32](1), 6, batchv1.TerminatingOrFailed},
		{"parallel only", func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](3) }, nil, ptr.To[int32](3), 6, batchv1.TerminatingOrFailed},
		{"completions only", func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](5) }, ptr.To[int32](5), ptr.To[int32](1), 6, batchv1.TerminatingOrFailed},
		{"per-index backoff", func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = ptr.To[int32](1) }, ptr.To[int32](1), ptr.To[int32](1), 1<<31 - 1, batchv1.TerminatingOrFailed},
		{"failure policy", func(j *batchv1.Job) { j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{} }, ptr.To[int32](1), ptr.To[int32](1), 6, batchv1.Failed},
	}
	for _, c := range cases {
		j := mutated(testJob(), c.mutate)
		r.Default(j)
		got := []any{j.Spec.Completions, j.Spec.Parallelism, *j.Spec.BackoffLimit, *j.Spec.PodReplacementPolicy,
			*j.Spec.CompletionMode, *j.Spec.Suspend, *j.Spec.ManualSelector}
		want := []any{c.completions, c.parallel, c.backoff, c.replacement, batchv1.NonIndexedCompletion, false, false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: defaults (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestJobCreateGeneratesSelector(t *testing.T) {
	r := groupResource(t, "jobs")
	j := testJob()
	j.Spec.Template.Labels = map[string]string{"app": "pi"}
	checkErrors(t, "create", createErrors(r, j), nil)
	uid := string(testUID)
	wantLabels := map[string]string{"app": "pi", "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
		"controller-uid": uid, "job-name": "pi"}
	if diff := cmp.Diff(wantLabels, j.Spec.Template.Labels); diff != "" {
		t.Errorf("template labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, j.Labels); diff != "" {
		t.Errorf("job labels inherited from the template (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": uid}}, j.Spec.Selector); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}

	own := testJob()
	own.Labels = map[string]string{"team": "x"}
	createErrors(r, own)
	if diff := cmp.Diff(map[string]string{"team": "x"}, own.Labels); diff != "" {
		t.Errorf("explicit job labels changed (-want +got):\n%s", diff)
	}

	// kubectl create job sends neither job nor template labels: the job
	// still shows the generated ones, as `kubectl get jobs --show-labels`
	// does against Kubernetes.
	bare := testJob()
	bare.Labels, bare.Spec.Template.Labels = nil, nil
	checkErrors(t, "create without labels", createErrors(r, bare), nil)
	wantBare := map[string]string{"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
		"controller-uid": uid, "job-name": "pi"}
	if diff := cmp.Diff(wantBare, bare.Labels); diff != "" {
		t.Errorf("labels of a job created without any (-want +got):\n%s", diff)
	}

	manual := testJob()
	manual.Spec.ManualSelector = ptr.To(true)
	checkErrors(t, "manual without selector", createErrors(r, manual), []string{"spec.selector: Required value: ",
		"spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"})
}

func TestJobValidation(t *testing.T) {
	r := groupResource(t, "jobs")
	cases := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []string
	}{
		{"restart always", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			[]string{`spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`}},
		{"restart unset", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" },
			[]string{`spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`}},
		{"negative counts", func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](-1); j.Spec.Completions = ptr.To[int32](-1) },
			[]string{"spec.parallelism: Invalid value: must be greater than or equal to 0", "spec.completions: Invalid value: must be greater than or equal to 0"}},
		{"indexed without completions", func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Parallelism = ptr.To[int32](2)
		}, []string{"spec.completions: Required value: when completion mode is Indexed"}},
		{"bad completion mode", func(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To(batchv1.CompletionMode("Sometimes")) },
			[]string{`spec.completionMode: Unsupported value: supported values: "NonIndexed", "Indexed"`}},
		{"failure policy needs Never", func(j *batchv1.Job) {
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
			}}}
		}, []string{`spec.template.spec.restartPolicy: Invalid value: only "Never" is supported when podFailurePolicy is specified`}},
		{"foreign selector", func(j *batchv1.Job) {
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
		}, []string{"spec.selector: Invalid value: `selector` not auto-generated",
			"spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`"}},
	}
	for _, c := range cases {
		checkErrors(t, c.name, createErrors(r, mutated(testJob(), c.mutate)), c.want)
	}
}

func TestJobUpdate(t *testing.T) {
	r := groupResource(t, "jobs")
	created := func(suspend bool) *batchv1.Job {
		j := testJob()
		j.Spec.Suspend = ptr.To(suspend)
		createErrors(r, j)
		return j
	}
	cases := []struct {
		name    string
		suspend bool
		mutate  func(*batchv1.Job)
		want    []string
	}{
		{"parallelism", false, func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](4) }, nil},
		{"image", false, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl" },
			[]string{"spec.template: Invalid value: field is immutable"}},
		{"node selector while suspended", true, func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} }, nil},
		{"node selector while running", false, func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} },
			[]string{"spec.template: Invalid value: field is immutable"}},
		{"completions", false, func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](3) },
			[]string{"spec.completions: Invalid value: field is immutable"}},
		{"selector", false, func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["x"] = "y"; j.Spec.Template.Labels["x"] = "y" },
			[]string{"spec.selector: Invalid value: field is immutable", "spec.template: Invalid value: field is immutable"}},
	}
	for _, c := range cases {
		old := created(c.suspend)
		checkErrors(t, c.name, updateErrors(r, mutated(old, c.mutate), old.DeepCopy()), c.want)
	}
}

func TestJobFieldsAndTable(t *testing.T) {
	r := groupResource(t, "jobs")
	j := testJob()
	createErrors(r, j)
	j.Status.Succeeded = 1
	if diff := cmp.Diff(fields.Set{"status.successful": "1"}, r.Fields(j)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"}, columnNames(r)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	start := metav1.NewTime(time.Now().Add(-2 * time.Minute))
	done := metav1.NewTime(start.Add(90 * time.Second))
	j.Status.StartTime, j.Status.CompletionTime = &start, &done
	j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	checkRow(t, r, j, []any{"pi", "Complete", "1/1", "90s", "AGE", "web", "nginx:1.27", "batch.kubernetes.io/controller-uid=" + string(testUID)})

	running := testJob()
	running.Spec.Parallelism = ptr.To[int32](3)
	row := r.Table.Row(running)
	if row[1] != "Running" || row[2] != "0/1 of 3" || row[3] != "" {
		t.Errorf("running job cells = %v", row[1:4])
	}
	running.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: corev1.ConditionTrue}}
	if got := r.Table.Row(running)[1]; got != "Suspended" {
		t.Errorf("suspended job status = %v", got)
	}
}
