package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// tokenCall is one TokenRequest the fake API server received.
type tokenCall struct {
	Namespace, ServiceAccount string
	Spec                      authenticationv1.TokenRequestSpec
}

// tokenServer answers TokenRequests on a fake clientset: the n-th gets
// "token-n", valid for the seconds asked for from the test clock.
type tokenServer struct {
	clock *testClock

	mu    sync.Mutex
	calls []tokenCall
	err   error
}

func serveTokens(client *fake.Clientset, clock *testClock) *tokenServer {
	s := &tokenServer{clock: clock}
	client.PrependReactor("create", "serviceaccounts", func(action k8stesting.Action) (bool, runtime.Object, error) {
		create, ok := action.(k8stesting.CreateActionImpl)
		if !ok || create.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := create.GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.err != nil {
			return true, nil, s.err
		}
		s.calls = append(s.calls, tokenCall{Namespace: create.GetNamespace(), ServiceAccount: create.Name, Spec: tr.Spec})
		tr.Status.Token = fmt.Sprintf("token-%d", len(s.calls))
		tr.Status.ExpirationTimestamp = metav1.NewTime(clock.Now().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second))
		return true, tr, nil
	})
	return s
}

func (s *tokenServer) requests() []tokenCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tokenCall(nil), s.calls...)
}

func (s *tokenServer) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// newTokenManager is a Manager on a test clock whose API server issues
// tokens.
func newTokenManager(t *testing.T) (*Manager, *tokenServer, *testClock) {
	t.Helper()
	m, client, _ := newTestManager(t)
	clock := &testClock{now: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	m.opts.Now = clock.Now
	return m, serveTokens(client, clock), clock
}

func tokenVolume(name string, mode *int32, sources ...corev1.ServiceAccountTokenProjection) corev1.Volume {
	p := &corev1.ProjectedVolumeSource{DefaultMode: mode}
	for i := range sources {
		p.Sources = append(p.Sources, corev1.VolumeProjection{ServiceAccountToken: &sources[i]})
	}
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: p}}
}

// tokenFile is the content of the token file path in the pod's volume.
func tokenFile(t *testing.T, vols Volumes, volume, path string) string {
	t.Helper()
	contents, _ := readVolume(t, vols.Items[volume].HostPath)
	return contents[path]
}

func TestServiceAccountTokenFileAndRequest(t *testing.T) {
	m, server, _ := newTokenManager(t)
	pod := testPod(tokenVolume("tokens", ptrTo(int32(0o440)),
		corev1.ServiceAccountTokenProjection{Path: "vault/token", Audience: "vault", ExpirationSeconds: ptrTo(int64(7200))},
		corev1.ServiceAccountTokenProjection{Path: "token"}))
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	contents, modes := readVolume(t, vols.Items["tokens"].HostPath)
	if diff := cmp.Diff(map[string]string{"vault/token": "token-1", "token": "token-2"}, contents); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]os.FileMode{"vault/token": 0o440, "token": 0o440}, modes); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	bound := &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "web", UID: "uid-1"}
	want := []tokenCall{
		{Namespace: "ns", ServiceAccount: "sa", Spec: authenticationv1.TokenRequestSpec{
			Audiences: []string{"vault"}, ExpirationSeconds: ptrTo(int64(7200)), BoundObjectRef: bound}},
		{Namespace: "ns", ServiceAccount: "sa", Spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: ptrTo(int64(3600)), BoundObjectRef: bound}},
	}
	if diff := cmp.Diff(want, server.requests()); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
}

func TestServiceAccountTokenDefaultServiceAccountAndMode(t *testing.T) {
	m, server, _ := newTokenManager(t)
	pod := testPod(tokenVolume("tokens", nil, corev1.ServiceAccountTokenProjection{Path: "token"}))
	pod.Spec.ServiceAccountName = ""
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	if _, modes := readVolume(t, vols.Items["tokens"].HostPath); modes["token"] != 0o644 {
		t.Errorf("mode = %o, want 644", modes["token"])
	}
	if reqs := server.requests(); len(reqs) != 1 || reqs[0].ServiceAccount != "default" {
		t.Errorf("token requests = %+v, want one for serviceaccount default", reqs)
	}
}

func TestServiceAccountTokenRenewal(t *testing.T) {
	for _, tc := range []struct {
		name         string
		seconds      int64
		fresh, stale time.Duration // since issue
	}{
		{name: "80 % of the lifetime", seconds: 3600, fresh: 47 * time.Minute, stale: 49 * time.Minute},
		{name: "a day old", seconds: 7 * 24 * 3600, fresh: 23 * time.Hour, stale: 25 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, server, clock := newTokenManager(t)
			pod := testPod(tokenVolume("tokens", nil, corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &tc.seconds}))
			vols, err := m.SetUp(ctxT(t), pod)
			if err != nil {
				t.Fatal(err)
			}
			clock.Step(tc.fresh)
			m.Resync(ctxT(t))
			if _, err := m.SetUp(ctxT(t), pod); err != nil {
				t.Fatal(err)
			}
			if n := len(server.requests()); n != 1 {
				t.Errorf("%d token requests before %v, want 1", n, tc.stale)
			}
			if got := tokenFile(t, vols, "tokens", "token"); got != "token-1" {
				t.Errorf("token before renewal = %q, want token-1", got)
			}

			clock.Step(tc.stale - tc.fresh)
			m.Resync(ctxT(t))
			if n := len(server.requests()); n != 2 {
				t.Errorf("%d token requests after %v, want 2", n, tc.stale)
			}
			if got := tokenFile(t, vols, "tokens", "token"); got != "token-2" {
				t.Errorf("token after renewal = %q, want token-2", got)
			}
		})
	}
}

func TestServiceAccountTokenRequestFails(t *testing.T) {
	m, server, clock := newTokenManager(t)
	var logs bytes.Buffer
	m.log = slog.New(slog.NewTextHandler(&logs, nil))
	server.fail(errors.New("connection refused"))
	pod := testPod(tokenVolume("tokens", nil, corev1.ServiceAccountTokenProjection{Path: "token"}))
	_, err := m.SetUp(ctxT(t), pod)
	want := `MountVolume.SetUp failed for volume "tokens" : serviceAccountToken token: request token for serviceaccount ns/sa: connection refused`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}

	// A running pod whose renewal fails keeps its token and is retried.
	server.fail(nil)
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	clock.Step(50 * time.Minute)
	server.fail(errors.New("connection refused"))
	m.Resync(ctxT(t))
	if got := tokenFile(t, vols, "tokens", "token"); got != "token-1" {
		t.Errorf("token after failed renewal = %q, want token-1", got)
	}
	if !strings.Contains(logs.String(), "serviceAccountToken token") {
		t.Errorf("failed renewal not logged: %s", logs.String())
	}
	server.fail(nil)
	m.Resync(ctxT(t))
	if got := tokenFile(t, vols, "tokens", "token"); got != "token-2" {
		t.Errorf("token after retry = %q, want token-2", got)
	}
}

func TestServiceAccountTokenForgottenOnTearDown(t *testing.T) {
	m, server, _ := newTokenManager(t)
	pod := testPod(tokenVolume("tokens", nil, corev1.ServiceAccountTokenProjection{Path: "token"}))
	if _, err := m.SetUp(ctxT(t), pod); err != nil {
		t.Fatal(err)
	}
	if err := m.TearDown(ctxT(t), "uid-1"); err != nil {
		t.Fatal(err)
	}
	vols, err := m.SetUp(ctxT(t), pod)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(server.requests()); n != 2 {
		t.Errorf("%d token requests, want a new one after TearDown", n)
	}
	if got := tokenFile(t, vols, "tokens", "token"); got != "token-2" {
		t.Errorf("token = %q, want token-2", got)
	}
}
