package job

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// deadPod is a Failed pod of index ix (-1: none) whose containers
// exited with the given codes (name → code); init containers are named
// with an "init-" prefix.
func deadPod(name string, ix int, codes map[string]int32, conds ...corev1.PodCondition) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: map[string]string{}},
		Spec:   corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, Conditions: conds}}
	if ix >= 0 {
		p.Annotations[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
	}
	for c, code := range codes {
		s := corev1.ContainerStatus{Name: c, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
		if strings.HasPrefix(c, "init-") {
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, s)
		} else {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, s)
		}
	}
	return p
}

func exitRule(action batchv1.PodFailurePolicyAction, container string, op batchv1.PodFailurePolicyOnExitCodesOperator, codes ...int32) batchv1.PodFailurePolicyRule {
	req := &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: codes}
	if container != "" {
		req.ContainerName = ptr.To(container)
	}
	return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: req}
}

func conditionRule(action batchv1.PodFailurePolicyAction, t corev1.PodConditionType) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: t, Status: corev1.ConditionTrue}}}
}

func policyJob(rules ...batchv1.PodFailurePolicyRule) *batchv1.Job {
	return &batchv1.Job{Spec: batchv1.JobSpec{PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: rules},
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}}}}
}

func TestJudge(t *testing.T) {
	const (
		failJob   = batchv1.PodFailurePolicyActionFailJob
		ignore    = batchv1.PodFailurePolicyActionIgnore
		count     = batchv1.PodFailurePolicyActionCount
		failIndex = batchv1.PodFailurePolicyActionFailIndex
		in        = batchv1.PodFailurePolicyOnExitCodesOpIn
		notIn     = batchv1.PodFailurePolicyOnExitCodesOpNotIn
	)
	disrupted := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}
	for _, tc := range []struct {
		name  string
		job   *batchv1.Job
		pod   *corev1.Pod
		want  verdict
		count bool
	}{
		{"no policy", &batchv1.Job{}, deadPod("p", -1, map[string]int32{"main": 42}), verdict{}, true},
		{"FailJob on exit code",
			policyJob(exitRule(failJob, "main", in, 42)), deadPod("p", -1, map[string]int32{"main": 42}),
			verdict{failJob, "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0"}, true},
		{"other container name does not match",
			policyJob(exitRule(failJob, "side", in, 42)), deadPod("p", -1, map[string]int32{"main": 42}), verdict{}, true},
		{"NotIn matches codes not listed",
			policyJob(exitRule(count, "", notIn, 1, 2)), deadPod("p", -1, map[string]int32{"main": 3}), verdict{action: count}, true},
		{"NotIn skips listed codes",
			policyJob(exitRule(failJob, "", notIn, 1, 2)), deadPod("p", -1, map[string]int32{"main": 2}), verdict{}, true},
		{"exit code 0 never matches",
			policyJob(exitRule(failJob, "", notIn, 1)), deadPod("p", -1, map[string]int32{"main": 0}), verdict{}, true},
		{"init containers are checked",
			policyJob(exitRule(ignore, "", in, 5)), deadPod("p", -1, map[string]int32{"init-setup": 5}), verdict{action: ignore}, false},
		{"Ignore on DisruptionTarget",
			policyJob(exitRule(failJob, "", in, 42), conditionRule(ignore, corev1.DisruptionTarget)),
			deadPod("p", -1, map[string]int32{"main": 137}, disrupted), verdict{action: ignore}, false},
		{"first matching rule wins",
			policyJob(conditionRule(ignore, corev1.DisruptionTarget), exitRule(failJob, "", in, 42)),
			deadPod("p", -1, map[string]int32{"main": 42}, disrupted), verdict{action: ignore}, false},
		{"FailJob on a condition names the rule index",
			policyJob(exitRule(ignore, "", in, 1), conditionRule(failJob, corev1.DisruptionTarget)),
			deadPod("p", -1, map[string]int32{"main": 137}, disrupted),
			verdict{failJob, "Pod ns/p has condition DisruptionTarget matching FailJob rule at index 1"}, true},
		{"condition with another status does not match",
			policyJob(conditionRule(ignore, corev1.DisruptionTarget)),
			deadPod("p", -1, nil, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse}), verdict{}, true},
		{"FailIndex", policyJob(exitRule(failIndex, "", in, 3)), deadPod("p", 0, map[string]int32{"main": 3}), verdict{action: failIndex}, true},
		{"unknown action is skipped",
			policyJob(exitRule("Retry", "", in, 3), exitRule(count, "", in, 3)), deadPod("p", -1, map[string]int32{"main": 3}), verdict{action: count}, true},
	} {
		got := judge(tc.job, tc.pod)
		if got != tc.want || got.counts() != tc.count {
			t.Errorf("%s: got %+v (counts %v), want %+v (counts %v)", tc.name, got, got.counts(), tc.want, tc.count)
		}
	}
	// The policy only judges terminal pods with restartPolicy Never.
	job := policyJob(exitRule(failJob, "", in, 42))
	running := deadPod("p", -1, map[string]int32{"main": 42})
	running.Status.Phase = corev1.PodRunning
	if v := judge(job, running); v.action != "" {
		t.Errorf("running pod judged: %+v", v)
	}
	onFailure := deadPod("p", -1, map[string]int32{"main": 42})
	onFailure.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	if v := judge(job, onFailure); v.action != "" {
		t.Errorf("OnFailure pod judged: %+v", v)
	}
	if msg, ok := failJobMessage(job, []*corev1.Pod{running, deadPod("q", -1, map[string]int32{"main": 42})}); !ok ||
		msg != "Container main for pod ns/q failed with exit code 42 matching FailJob rule at index 0" {
		t.Errorf("failJobMessage: %q %v", msg, ok)
	}
}

func perIndexJob(limit int32, rules ...batchv1.PodFailurePolicyRule) *batchv1.Job {
	job := policyJob(rules...)
	if len(rules) == 0 {
		job.Spec.PodFailurePolicy = nil
	}
	job.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	job.Spec.Completions = ptr.To[int32](5)
	job.Spec.BackoffLimitPerIndex = ptr.To(limit)
	return job
}

func TestFailedIndexes(t *testing.T) {
	withCount := func(p *corev1.Pod, n string) *corev1.Pod {
		p.Annotations[batchv1.JobIndexFailureCountAnnotation] = n
		return p
	}
	job := perIndexJob(1, exitRule(batchv1.PodFailurePolicyActionFailIndex, "", batchv1.PodFailurePolicyOnExitCodesOpIn, 3),
		conditionRule(batchv1.PodFailurePolicyActionIgnore, corev1.DisruptionTarget))
	job.Status.FailedIndexes = ptr.To("4")
	disrupted := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}
	pods := []*corev1.Pod{
		withCount(deadPod("a", 0, map[string]int32{"main": 1}), "0"),            // first failure: retried
		withCount(deadPod("b", 1, map[string]int32{"main": 1}), "1"),            // second failure: index failed
		withCount(deadPod("c", 2, map[string]int32{"main": 3}), "0"),            // FailIndex
		withCount(deadPod("d", 3, map[string]int32{"main": 1}, disrupted), "7"), // ignored
		withCount(deadPod("e", 9, map[string]int32{"main": 1}), "9"),            // beyond completions
		withCount(deadPod("f", 1, map[string]int32{"main": 1}), "not-a-number"), // reads as 0
	}
	if got := failedIndexSet(job, pods).String(); got != "1,2,4" {
		t.Errorf("failed indexes: got %q, want \"1,2,4\"", got)
	}
	// Without a policy every failure counts.
	plain := perIndexJob(0)
	if got := failedIndexSet(plain, pods[:1]).String(); got != "0" {
		t.Errorf("limit 0: got %q", got)
	}

	// A replacement pod carries the failures of its index so far.
	fresh := &corev1.Pod{}
	annotateFailureCounts(fresh, job, nil)
	if diff := cmp.Diff(map[string]string{batchv1.JobIndexFailureCountAnnotation: "0"}, fresh.Annotations); diff != "" {
		t.Errorf("first pod: %s", diff)
	}
	after := &corev1.Pod{}
	annotateFailureCounts(after, job, pods[0])
	if diff := cmp.Diff(map[string]string{batchv1.JobIndexFailureCountAnnotation: "1"}, after.Annotations); diff != "" {
		t.Errorf("after a counted failure: %s", diff)
	}
	afterIgnored := &corev1.Pod{}
	annotateFailureCounts(afterIgnored, job, pods[3])
	if diff := cmp.Diff(map[string]string{batchv1.JobIndexFailureCountAnnotation: "7",
		batchv1.JobIndexIgnoredFailureCountAnnotation: "1"}, afterIgnored.Annotations); diff != "" {
		t.Errorf("after an ignored failure: %s", diff)
	}

	// The replaced pod is the last failed pod of the index.
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	older, newer := deadPod("old", 0, map[string]int32{"main": 1}), deadPod("new", 0, map[string]int32{"main": 1})
	older.Status.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(now.Add(-time.Minute))
	newer.Status.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(now.Add(-time.Second))
	if got := lastFailedByIndex(job, []*corev1.Pod{newer, older})[0]; got != newer {
		t.Errorf("replaced pod: %s", got.Name)
	}
	// Each index backs off on its own: index 0 waits, index 1 does not.
	waiting, wait := indexesInBackoff(job, []*corev1.Pod{newer, older}, indexSet{}, now)
	if !cmp.Equal(waiting, indexSet{0: true}) || wait != 19*time.Second {
		t.Errorf("backoff: %v %v, want index 0 waiting 19s", waiting, wait)
	}
	if waiting, _ := indexesInBackoff(job, []*corev1.Pod{newer}, indexSet{0: true}, now); len(waiting) != 0 {
		t.Errorf("a settled index does not wait: %v", waiting)
	}
}

func TestPlanIndexedSkipsFailedAndWaitingIndexes(t *testing.T) {
	job := perIndexJob(0)
	job.Spec.Parallelism = ptr.To[int32](5)
	running := func(ix int) *corev1.Pod {
		p := deadPod("r"+strconv.Itoa(ix), ix, nil)
		p.Status.Phase = corev1.PodRunning
		return p
	}
	r := &round{job: job, completed: indexSet{0: true}, failedIx: indexSet{1: true},
		active: []*corev1.Pod{running(2)}}
	if surplus, start := planIndexed(job, r, indexSet{3: true}); len(surplus) != 0 || !cmp.Equal(start, []int{4}) {
		t.Errorf("got surplus %d, start %v; want start [4]", len(surplus), start)
	}
	// A pod of a failed index is not kept.
	r.active = append(r.active, running(1))
	if surplus, _ := planIndexed(job, r, nil); len(surplus) != 1 || podIndex(surplus[0]) != 1 {
		t.Errorf("surplus %v", surplus)
	}
}

func TestMatchSuccessPolicy(t *testing.T) {
	rule := func(indexes string, count int32) batchv1.SuccessPolicyRule {
		var r batchv1.SuccessPolicyRule
		if indexes != "" {
			r.SucceededIndexes = ptr.To(indexes)
		}
		if count > 0 {
			r.SucceededCount = ptr.To(count)
		}
		return r
	}
	for _, tc := range []struct {
		rules     []batchv1.SuccessPolicyRule
		succeeded string
		want      string
	}{
		{[]batchv1.SuccessPolicyRule{rule("0-2", 0)}, "0-2,4-7", "Matched rules at index 0"},
		{[]batchv1.SuccessPolicyRule{rule("0-2", 0)}, "0,1", ""},
		{[]batchv1.SuccessPolicyRule{rule("1-4", 3)}, "1,3,5", ""},
		{[]batchv1.SuccessPolicyRule{rule("1-4", 2)}, "1,3,5", "Matched rules at index 0"},
		{[]batchv1.SuccessPolicyRule{rule("", 3)}, "1,3,5", "Matched rules at index 0"},
		{[]batchv1.SuccessPolicyRule{rule("", 4), rule("5", 0)}, "1,3,5", "Matched rules at index 1"},
		{[]batchv1.SuccessPolicyRule{rule("0", 0)}, "", ""},
	} {
		msg, ok := matchSuccessPolicy(&batchv1.SuccessPolicy{Rules: tc.rules}, 10, parseIndexes(tc.succeeded, 10))
		if msg != tc.want || ok != (tc.want != "") {
			t.Errorf("rules %+v, succeeded %q: got %q %v, want %q", tc.rules, tc.succeeded, msg, ok, tc.want)
		}
	}
	if _, ok := matchSuccessPolicy(nil, 10, indexSet{0: true}); ok {
		t.Error("no policy matched")
	}
}

func TestFailureTargetOrder(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	jc := &Controller{}
	job := perIndexJob(0)
	job.Spec.Completions = ptr.To[int32](3)
	job.Spec.MaxFailedIndexes = ptr.To[int32](1)
	job.Spec.BackoffLimit = ptr.To[int32](1<<31 - 1)
	job.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0")}}}
	for _, tc := range []struct {
		completed, failed string
		wantType          batchv1.JobConditionType
		wantReason        string
	}{
		{"", "", "", ""},
		{"0", "", batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy},
		{"1", "2", "", ""},
		{"0", "2", batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy},
		{"1,2", "0", batchv1.JobFailureTarget, batchv1.JobReasonFailedIndexes},
		{"", "1,2", batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded},
	} {
		r := &round{job: job, completed: parseIndexes(tc.completed, 3), failedIx: parseIndexes(tc.failed, 3)}
		status := &batchv1.JobStatus{}
		c := jc.finishTarget(job, status, r, int32(len(r.completed)), int32(len(r.failedIx)), now)
		switch {
		case c == nil && tc.wantType != "":
			t.Errorf("completed %q failed %q: no target, want %s", tc.completed, tc.failed, tc.wantReason)
		case c != nil && (c.Type != tc.wantType || c.Reason != tc.wantReason):
			t.Errorf("completed %q failed %q: got %s/%s, want %s/%s", tc.completed, tc.failed, c.Type, c.Reason, tc.wantType, tc.wantReason)
		}
	}
	// A FailJob verdict comes before everything else.
	fj := policyJob(exitRule(batchv1.PodFailurePolicyActionFailJob, "", batchv1.PodFailurePolicyOnExitCodesOpIn, 42))
	fj.Spec.Completions = ptr.To[int32](1)
	r := &round{job: fj, pods: []*corev1.Pod{deadPod("p", -1, map[string]int32{"main": 42})}, completed: indexSet{}}
	status := &batchv1.JobStatus{}
	if c := jc.finishTarget(fj, status, r, 1, 1, now); c == nil || c.Type != batchv1.JobFailureTarget || c.Reason != batchv1.JobReasonPodFailurePolicy {
		t.Errorf("FailJob: %+v", c)
	}
}
