package cronjob

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/cron"
)

func mustParse(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := cron.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMostRecent(t *testing.T) {
	now := time.Date(2026, 3, 10, 10, 30, 20, 0, time.UTC)
	minutely := mustParse(t, "* * * * *")
	hourly := mustParse(t, "0 * * * *")
	for _, tc := range []struct {
		name     string
		s        cron.Schedule
		earliest time.Time
		want     time.Time
		tooMany  bool
	}{
		{"nothing due", minutely, now.Add(-10 * time.Second), time.Time{}, false},
		{"one due", minutely, now.Add(-50 * time.Second), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC), false},
		{"several missed", minutely, now.Add(-5 * time.Minute), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC), false},
		{"exactly 100 missed", minutely, time.Date(2026, 3, 10, 8, 50, 0, 0, time.UTC), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC), false},
		{"101 missed", minutely, time.Date(2026, 3, 10, 8, 49, 0, 0, time.UTC), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC), true},
		{"a year of minutes", minutely, now.AddDate(-1, 0, 0), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC), true},
		{"hourly, days missed", hourly, now.AddDate(0, 0, -9), time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC), true},
		{"hourly, one", hourly, now.Add(-time.Hour), time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC), false},
	} {
		got, tooMany := mostRecent(tc.s, tc.earliest, now)
		if !got.Equal(tc.want) || tooMany != tc.tooMany {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, got, tooMany, tc.want, tc.tooMany)
		}
	}
}

func TestEarliestAndWake(t *testing.T) {
	now := time.Date(2026, 3, 10, 10, 30, 20, 0, time.UTC)
	created := now.Add(-time.Hour)
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)}}
	if got := earliestTime(cj, now); !got.Equal(created) {
		t.Errorf("from creation: %v", got)
	}
	last := now.Add(-10 * time.Minute)
	cj.Status.LastScheduleTime = ptr.To(metav1.NewTime(last))
	if got := earliestTime(cj, now); !got.Equal(last) {
		t.Errorf("from last schedule: %v", got)
	}
	cj.Spec.StartingDeadlineSeconds = ptr.To[int64](120)
	if got := earliestTime(cj, now); !got.Equal(now.Add(-2 * time.Minute)) {
		t.Errorf("bounded by the deadline: %v", got)
	}
	d, ok := wakeAfter(mustParse(t, "*/5 * * * *"), now)
	if !ok || d != 4*time.Minute+40*time.Second+nextScheduleDelta {
		t.Errorf("wake: %v %v", d, ok)
	}
	if _, ok := wakeAfter(mustParse(t, "0 0 30 2 *"), now); ok {
		t.Error("a schedule that never fires wakes nobody")
	}
}

func TestTimeZone(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	cj := &batchv1.CronJob{Spec: batchv1.CronJobSpec{TimeZone: ptr.To("America/New_York")}}
	got, err := location(cj)
	if err != nil || got.String() != loc.String() {
		t.Fatalf("location: %v %v", got, err)
	}
	// 09:00 in New York is 14:00 UTC in winter.
	now := time.Date(2026, 1, 15, 14, 0, 30, 0, time.UTC).In(loc)
	at, _ := mostRecent(mustParse(t, "0 9 * * *"), now.Add(-time.Hour), now)
	if !at.Equal(time.Date(2026, 1, 15, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("got %v", at)
	}
}

func TestJobNameAndHistory(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: "ns", UID: "u"}}
	at := time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC)
	if got := jobName(cj, at); got != "backup-29552310" {
		t.Errorf("name %q", got)
	}
	j := newJob(cj, jobName(cj, at), at)
	if j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "2026-03-10T10:30:00Z" ||
		metav1.GetControllerOf(j) == nil || metav1.GetControllerOf(j).UID != "u" {
		t.Errorf("job %+v", j.ObjectMeta)
	}
	mk := func(name string, start time.Time) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: batchv1.JobStatus{StartTime: ptr.To(metav1.NewTime(start))}}
	}
	jobs := []*batchv1.Job{mk("c", at.Add(2*time.Minute)), mk("a", at), mk("b", at.Add(time.Minute))}
	var names []string
	for _, j := range beyondLimit(jobs, ptr.To[int32](1)) {
		names = append(names, j.Name)
	}
	if len(names) != 2 || names[0] != "a" || names[1] != "b" {
		t.Errorf("pruned %v, want [a b]", names)
	}
	if beyondLimit(jobs, nil) != nil || beyondLimit(jobs, ptr.To[int32](3)) != nil {
		t.Error("no limit or under it: nothing pruned")
	}
}
