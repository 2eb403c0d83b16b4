package containerd

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/agent/runtime"
	"github.com/tugcluster/tug/pkg/agent/runtime/runtimetest"
	testimages "github.com/tugcluster/tug/test/images"
)

// termAware runs until SIGTERM and then exits 0.
var termAware = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"}

func TestConformance(t *testing.T) {
	needRoot(t)
	runtimetest.RunTests(t, func(t *testing.T) runtime.Runtime { return newTestRuntime(t) },
		runtimetest.WithImage(testimages.Busybox, termAware...))
}

func testPod(name string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name + "-" + newID()[:6])},
		Spec:       corev1.PodSpec{Containers: containers},
	}
}

// runContainer creates and starts pod.Spec.Containers[i] (attempt) in sb.
func runContainer(t *testing.T, rt *Runtime, sb runtime.Sandbox, pod *corev1.Pod, i, attempt int) string {
	t.Helper()
	ctx := context.Background()
	imageID, err := rt.PullImage(ctx, pod.Spec.Containers[i].Image, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: pod, Container: &pod.Spec.Containers[i], Attempt: attempt, ImageID: imageID})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitExited waits for the container to be reported exited.
func waitExited(t *testing.T, rt *Runtime, id string, within time.Duration) runtime.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := rt.ContainerStatus(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == runtime.ContainerExited {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %s after %v", id, st.State, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestContainers covers what the conformance suite leaves to
// implementations, on one runtime: exits and restarts, OOM, stop
// signals, logs, exec, stats and the pod's shared network.
func TestContainers(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	exits := make(chan string, 16)
	rt.NotifyExits(func(_, id string) { exits <- id })

	t.Run("ExitCodeAndRestart", func(t *testing.T) {
		pod := testPod("exit", corev1.Container{Name: "c", Image: testimages.Busybox, Command: []string{"sh", "-c", "echo bye; exit 3"}})
		sb, err := rt.RunPodSandbox(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		first := runContainer(t, rt, sb, pod, 0, 0)
		select {
		case id := <-exits:
			if id != first {
				t.Errorf("exit notification for %s, want %s", id, first)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no exit notification")
		}
		st := waitExited(t, rt, first, 5*time.Second)
		if st.ExitCode != 3 || st.Reason != runtime.ReasonError || st.FinishedAt.Before(st.StartedAt) {
			t.Errorf("status = %+v, want exit 3, Error, finished after start", st)
		}
		pod.Spec.Containers[0].Command = []string{"true"}
		second := runContainer(t, rt, sb, pod, 0, 1)
		st = waitExited(t, rt, second, 10*time.Second)
		if st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted || st.Attempt != 1 {
			t.Errorf("restart status = %+v, want attempt 1 completed", st)
		}
	})

	t.Run("OOMKilled", func(t *testing.T) {
		c := corev1.Container{Name: "hog", Image: testimages.MemHog, Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}}}
		pod := testPod("oom", c)
		sb, err := rt.RunPodSandbox(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		id := runContainer(t, rt, sb, pod, 0, 0)
		st := waitExited(t, rt, id, 20*time.Second)
		// The OOM event may trail the exit by a moment.
		for i := 0; i < 20 && st.Reason != runtime.ReasonOOMKilled; i++ {
			time.Sleep(50 * time.Millisecond)
			st, _ = rt.ContainerStatus(ctx, id)
		}
		if st.ExitCode != 137 || st.Reason != runtime.ReasonOOMKilled {
			t.Errorf("status = %+v, want 137 OOMKilled", st)
		}
	})

	t.Run("StopHonoursSIGTERMAndKillsSh", func(t *testing.T) {
		pod := testPod("stop",
			corev1.Container{Name: "polite", Image: testimages.Busybox, Command: termAware},
			corev1.Container{Name: "deaf", Image: testimages.Busybox, Command: []string{"sh", "-c", "while :; do sleep 1; done"}})
		sb, err := rt.RunPodSandbox(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		polite := runContainer(t, rt, sb, pod, 0, 0)
		deaf := runContainer(t, rt, sb, pod, 1, 0)
		time.Sleep(200 * time.Millisecond) // let sh install its trap
		start := time.Now()
		if err := rt.StopContainer(ctx, polite, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("stopping a SIGTERM-aware container took %v", d)
		}
		if st, _ := rt.ContainerStatus(ctx, polite); st.ExitCode != 0 {
			t.Errorf("SIGTERM-aware container exit = %d, want 0", st.ExitCode)
		}
		start = time.Now()
		if err := rt.StopContainer(ctx, deaf, time.Second); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second || d > 5*time.Second {
			t.Errorf("stopping sh took %v, want the 1s grace then SIGKILL", d)
		}
		if st, _ := rt.ContainerStatus(ctx, deaf); st.ExitCode != 137 || st.Reason != runtime.ReasonError {
			t.Errorf("sh status = %+v, want killed (137)", st)
		}
	})

	t.Run("LogsInCRIFormat", func(t *testing.T) {
		pod := testPod("logs", corev1.Container{Name: "c", Image: testimages.Busybox,
			Command: []string{"sh", "-c", "echo out; echo err >&2; printf tail"}})
		sb, err := rt.RunPodSandbox(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		id := runContainer(t, rt, sb, pod, 0, 0)
		waitExited(t, rt, id, 10*time.Second)
		b, err := os.ReadFile(rt.logPath(pod, "c", 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []string{`(?m)^\S+Z stdout F out$`, `(?m)^\S+Z stderr F err$`, `(?m)^\S+Z stdout F tail$`} {
			if !regexp.MustCompile(re).Match(b) {
				t.Errorf("log file %q does not match %s", b, re)
			}
		}
		var out bytes.Buffer
		if err := rt.ContainerLogs(ctx, id, runtime.LogOptions{TailLines: -1}, &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"out\n", "err\n", "tail\n"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("logs %q lack %q", out.String(), want)
			}
		}
	})

	t.Run("ExecStatsAndPodNetwork", func(t *testing.T) {
		pod := testPod("web",
			corev1.Container{Name: "web", Image: testimages.Web},
			corev1.Container{Name: "shell", Image: testimages.Busybox, Command: termAware})
		sb, err := rt.RunPodSandbox(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		web := runContainer(t, rt, sb, pod, 0, 0)
		shell := runContainer(t, rt, sb, pod, 1, 0)

		res, err := rt.ExecSync(ctx, shell, []string{"sh", "-c", "echo hi; echo oops >&2; exit 4"}, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 4 || string(res.Stdout) != "hi\n" || string(res.Stderr) != "oops\n" {
			t.Errorf("exec = code %d stdout %q stderr %q, want 4, hi, oops", res.ExitCode, res.Stdout, res.Stderr)
		}
		var got bytes.Buffer
		code, err := rt.Exec(ctx, shell, runtime.ExecOptions{Cmd: []string{"cat"}, Stdin: strings.NewReader("from stdin"), Stdout: &got})
		if err != nil || code != 0 || got.String() != "from stdin" {
			t.Errorf("exec cat = %d %v %q, want the input echoed", code, err, got.String())
		}
		if _, err := rt.ExecSync(ctx, shell, []string{"sleep", "10"}, 200*time.Millisecond); err == nil {
			t.Errorf("exec past its timeout returned no error")
		}

		// The containers share the sandbox's network namespace and files.
		var body string
		for i := 0; i < 50; i++ {
			res, err = rt.ExecSync(ctx, shell, []string{"wget", "-qO-", "http://127.0.0.1:8080/hello"}, 5*time.Second)
			if err == nil && res.ExitCode == 0 {
				body = string(res.Stdout)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(body, "/hello") {
			t.Errorf("web server seen from the sidecar: %q, want /hello", body)
		}
		res, _ = rt.ExecSync(ctx, shell, []string{"cat", "/etc/hosts", "/etc/hostname"}, 5*time.Second)
		if !strings.Contains(string(res.Stdout), sb.IP+"\tweb") {
			t.Errorf("/etc/hosts and hostname %q lack %s web", res.Stdout, sb.IP)
		}

		st, err := rt.ContainerStats(ctx, web)
		if err != nil {
			t.Fatal(err)
		}
		if st.MemoryWorkingBytes == 0 || st.Timestamp.IsZero() {
			t.Errorf("stats = %+v, want memory in use", st)
		}
	})
}

// TestAdoptAfterRestart: a new runtime on the same data directory sees
// the running container, keeps its output flowing into the log and
// notices its exit.
func TestAdoptAfterRestart(t *testing.T) {
	first := newTestRuntime(t)
	ctx := context.Background()
	pod := testPod("adopt", corev1.Container{Name: "c", Image: testimages.Busybox,
		Command: []string{"sh", "-c", "trap 'exit 7' TERM; i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done"}})
	sb, err := first.RunPodSandbox(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	id := runContainer(t, first, sb, pod, 0, 0)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	second, err := Start(ctx, first.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupRuntime(t, second) })
	st, err := second.ContainerStatus(ctx, id)
	if err != nil || st.State != runtime.ContainerRunning {
		t.Fatalf("adopted container: %+v %v, want running", st, err)
	}
	logFile := second.logPath(pod, "c", 0)
	before, _ := os.ReadFile(logFile)
	time.Sleep(500 * time.Millisecond)
	after, _ := os.ReadFile(logFile)
	if len(after) <= len(before) {
		t.Errorf("log did not grow after the restart (%d bytes)", len(after))
	}
	if err := second.StopContainer(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if st, _ := second.ContainerStatus(ctx, id); st.ExitCode != 7 {
		t.Errorf("exit after adoption = %+v, want 7", st)
	}
}
