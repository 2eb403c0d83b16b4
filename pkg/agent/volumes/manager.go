package volumes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
)

// Plugin directory names, the same as the kubelet's so that tools and
// habits carry over.
const (
	PluginEmptyDir    = "kubernetes.io~empty-dir"
	PluginConfigMap   = "kubernetes.io~configmap"
	PluginSecret      = "kubernetes.io~secret"
	PluginDownwardAPI = "kubernetes.io~downward-api"
	PluginProjected   = "kubernetes.io~projected"
	PluginHostPath    = "kubernetes.io~host-path"
	PluginLocal       = "kubernetes.io~local-volume"
)

// DefaultResyncInterval is how often Run rewrites configMap, secret,
// downwardAPI and projected volumes. Half a minute keeps a change visible
// in a pod within a minute of its write.
const DefaultResyncInterval = 30 * time.Second

// maxResyncInterval caps Options.ResyncInterval.
const maxResyncInterval = time.Minute

// ErrUnsupported marks a volume type or source the node cannot provide.
var ErrUnsupported = errors.New("not supported")

// Options configure a Manager.
type Options struct {
	// RootDir holds one directory per pod UID (<agent-data-dir>/pods).
	RootDir string
	// NodeName is the node's name (logs and events).
	NodeName string
	// NodeAllocatable stands in for unset container limits in
	// resourceFieldRef (as the kubelet does) and sizes Memory emptyDirs
	// without a sizeLimit.
	NodeAllocatable corev1.ResourceList
	// Mounter mounts and unmounts tmpfs; nil is the real one (needs root).
	// PlainMounter keeps memory-backed volumes as plain directories.
	Mounter Mounter
	// ResyncInterval of Run; default 30 s, at most one minute.
	ResyncInterval time.Duration
	// Recorder receives Events (invalid envFrom keys); nil drops them.
	Recorder record.EventRecorder
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager sets up and tears down the volumes of a node's pods. Its
// methods are safe for concurrent use; calls for one pod are serialized.
type Manager struct {
	client kubernetes.Interface
	opts   Options
	log    *slog.Logger

	mu     sync.Mutex
	pods   map[string]*podEntry                // by UID
	tokens map[string]map[tokenKey]cachedToken // by pod UID
}

// podEntry is what resync needs about a pod that was set up.
type podEntry struct {
	mu      sync.Mutex
	pod     *corev1.Pod
	removed bool
}

// Volumes is where each volume of a pod is on the host.
type Volumes struct {
	PodUID string
	// Items by volume name.
	Items map[string]Volume
	// Warnings are problems that did not stop the setup; worth a Warning
	// Event each.
	Warnings []string
}

// Volume is one prepared volume.
type Volume struct {
	Name string
	// Plugin is one of the Plugin* names.
	Plugin string
	// HostPath is the directory (or file, for some hostPath types) to
	// bind-mount into containers.
	HostPath string
	// ReadOnly volumes are mounted read-only whatever the volumeMount
	// says (configMap, secret, downwardAPI, projected, read-only PVCs).
	ReadOnly bool
	// Managed volumes live under RootDir and are written by the Manager;
	// others (hostPath, PVs) are the host's own paths.
	Managed bool
}

// VolumeError is a failure to set up one volume. Its text is the
// kubelet's FailedMount event message.
type VolumeError struct {
	Volume string
	Err    error
}

func (e *VolumeError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *VolumeError) Unwrap() error { return e.Err }

// NewManager returns a Manager for the pods under opts.RootDir.
func NewManager(client kubernetes.Interface, opts Options) *Manager {
	if opts.Mounter == nil {
		opts.Mounter = SystemMounter{}
	}
	if opts.ResyncInterval <= 0 {
		opts.ResyncInterval = DefaultResyncInterval
	}
	if opts.ResyncInterval > maxResyncInterval {
		opts.ResyncInterval = maxResyncInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		client: client, opts: opts, log: log.With("component", "volumes"),
		pods: map[string]*podEntry{}, tokens: map[string]map[tokenKey]cachedToken{},
	}
}

// PodDir is the directory of one pod's state.
func (m *Manager) PodDir(podUID string) string { return filepath.Join(m.opts.RootDir, podUID) }

func (m *Manager) volumeDir(podUID, plugin, name string) string {
	return filepath.Join(m.opts.RootDir, podUID, "volumes", plugin, name)
}

// entry returns the pod's entry, creating it.
func (m *Manager) entry(uid string) *podEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.pods[uid]
	if e == nil {
		e = &podEntry{}
		m.pods[uid] = e
	}
	return e
}

// SetUp prepares every volume of pod and returns where each is. It is
// idempotent: calling it again refreshes contents (a changed ConfigMap,
// new labels) without disturbing running containers. The pod is then kept
// fresh by Run until TearDown.
func (m *Manager) SetUp(ctx context.Context, pod *corev1.Pod) (Volumes, error) {
	uid := string(pod.UID)
	if err := validUID(uid); err != nil {
		return Volumes{}, err
	}
	e := m.entry(uid)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pod = pod
	e.removed = false
	return m.setUp(ctx, pod, false)
}

// setUp prepares the volumes; contentOnly limits it to the volumes whose
// contents come from the API (the resync).
func (m *Manager) setUp(ctx context.Context, pod *corev1.Pod, contentOnly bool) (Volumes, error) {
	uid := string(pod.UID)
	vols := Volumes{PodUID: uid, Items: map[string]Volume{}}
	var errs []error
	for i := range pod.Spec.Volumes {
		spec := &pod.Spec.Volumes[i]
		if contentOnly && !hasAPIContent(spec) {
			continue
		}
		v, warnings, err := m.setUpVolume(ctx, pod, spec)
		for _, w := range warnings {
			vols.Warnings = append(vols.Warnings, fmt.Sprintf("volume %q: %s", spec.Name, w))
		}
		if err != nil {
			errs = append(errs, &VolumeError{Volume: spec.Name, Err: err})
			continue
		}
		vols.Items[spec.Name] = v
	}
	return vols, errors.Join(errs...)
}

func hasAPIContent(v *corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

func (m *Manager) setUpVolume(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (Volume, []string, error) {
	uid := string(pod.UID)
	switch {
	case v.EmptyDir != nil:
		return m.setUpEmptyDir(pod, v)
	case v.HostPath != nil:
		p, err := checkHostPath(v.HostPath.Path, v.HostPath.Type)
		return Volume{Name: v.Name, Plugin: PluginHostPath, HostPath: p}, nil, err
	case v.PersistentVolumeClaim != nil:
		return m.setUpClaim(ctx, pod, v)
	case v.ConfigMap != nil, v.Secret != nil, v.DownwardAPI != nil, v.Projected != nil:
		plugin, files, err := m.payload(ctx, pod, v)
		if err != nil {
			return Volume{}, nil, err
		}
		dir := m.volumeDir(uid, plugin, v.Name)
		if err := m.prepareContentDir(dir, plugin); err != nil {
			return Volume{}, nil, err
		}
		if err := writeAtomic(dir, files, m.opts.Now()); err != nil {
			return Volume{}, nil, err
		}
		return Volume{Name: v.Name, Plugin: plugin, HostPath: dir, ReadOnly: true, Managed: true}, nil, nil
	default:
		return Volume{}, nil, fmt.Errorf("volume type of %q: %w", v.Name, ErrUnsupported)
	}
}

// prepareContentDir creates a content volume's directory; secrets and
// projected volumes (which may carry secrets) get a tmpfs of their own.
func (m *Manager) prepareContentDir(dir, plugin string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create volume directory: %w", err)
	}
	if plugin != PluginSecret && plugin != PluginProjected {
		return nil
	}
	return m.ensureTmpfs(dir, 0)
}

// ensureTmpfs mounts a tmpfs at dir unless one is there already.
func (m *Manager) ensureTmpfs(dir string, size int64) error {
	mounted, err := m.opts.Mounter.IsMountPoint(dir)
	if err != nil {
		return fmt.Errorf("check mount %s: %w", dir, err)
	}
	if mounted {
		return nil
	}
	if err := m.opts.Mounter.MountTmpfs(dir, size); err != nil {
		return fmt.Errorf("mount tmpfs at %s: %w", dir, err)
	}
	return nil
}

// TearDown unmounts everything under the pod's directory and removes it.
// It is idempotent and works for pods the Manager never saw (orphans
// found with List after a restart).
func (m *Manager) TearDown(ctx context.Context, podUID string) error {
	if err := validUID(podUID); err != nil {
		return err
	}
	e := m.entry(podUID)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removed = true
	dir := m.PodDir(podUID)
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		m.forget(podUID, e)
		return nil
	}
	mounts, err := m.opts.Mounter.MountPoints(dir)
	if err != nil {
		return fmt.Errorf("tear down pod %s: %w", podUID, err)
	}
	// Deepest first, so nested mounts come off before their parents.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, mp := range mounts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := m.opts.Mounter.Unmount(mp); err != nil {
			return fmt.Errorf("tear down pod %s: unmount %s: %w", podUID, mp, err)
		}
	}
	// Never remove through a mount: that would delete what it shows.
	left, err := m.opts.Mounter.MountPoints(dir)
	if err != nil {
		return fmt.Errorf("tear down pod %s: %w", podUID, err)
	}
	if len(left) > 0 {
		return fmt.Errorf("tear down pod %s: still mounted: %s", podUID, strings.Join(left, ", "))
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("tear down pod %s: %w", podUID, err)
	}
	m.forget(podUID, e)
	return nil
}

// forget drops what the Manager keeps about a pod whose volumes are
// gone, its service account tokens included.
func (m *Manager) forget(uid string, e *podEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pods[uid] == e {
		delete(m.pods, uid)
	}
	delete(m.tokens, uid)
}

// List returns the UIDs of the pods that have a directory under RootDir,
// sorted; the agent tears down those that are no longer bound to it.
func (m *Manager) List() ([]string, error) {
	entries, err := os.ReadDir(m.opts.RootDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list pod directories: %w", err)
	}
	var uids []string
	for _, de := range entries {
		if de.IsDir() {
			uids = append(uids, de.Name())
		}
	}
	return uids, nil
}

// Run rewrites the API-backed volumes of every pod set up, every
// ResyncInterval, until ctx ends. Failures are logged and retried at the
// next round; the files of a failed volume keep their last contents.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			m.Resync(ctx)
		}
	}
}

// Resync refreshes every pod once (what Run does on each tick).
func (m *Manager) Resync(ctx context.Context) {
	m.mu.Lock()
	entries := make([]*podEntry, 0, len(m.pods))
	for _, e := range m.pods {
		entries = append(entries, e)
	}
	m.mu.Unlock()
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		e.mu.Lock()
		if !e.removed && e.pod != nil {
			if _, err := m.setUp(ctx, e.pod, true); err != nil {
				m.log.Warn("resync volumes", "pod", e.pod.Namespace+"/"+e.pod.Name, "err", err)
			}
		}
		e.mu.Unlock()
	}
}

func validUID(uid string) error {
	if uid == "" || uid == "." || uid == ".." || strings.ContainsAny(uid, "/\x00") {
		return fmt.Errorf("invalid pod UID %q", uid)
	}
	return nil
}
