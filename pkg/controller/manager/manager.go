package manager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/tugcluster/tug/pkg/controller"
)

// Workers is how many keys each controller syncs at once (Kubernetes'
// default for its workload controllers): a sync that creates pods waits
// on the API for each slow-start batch, so two workers let 100 new
// ReplicaSets queue for seconds.
const Workers = 5

// Manager runs a set of controllers under leader election.
type Manager struct {
	opts         controller.Options
	constructors []controller.Constructor
	client       kubernetes.Interface
	metadata     metadata.Interface
	log          *slog.Logger
	identity     string
	election     Election

	mu      sync.Mutex
	running bool
}

// New builds the clients from cfg; nothing runs until Run. An empty
// constructor list runs nothing but still takes part in the election.
func New(cfg *rest.Config, opts controller.Options, constructors ...controller.Constructor) (*Manager, error) {
	if cfg == nil {
		return nil, errors.New("controller manager: no client config")
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "tug-controller-manager"
	}
	if cfg.ContentType == "" {
		// Protobuf costs a fraction of JSON to encode and decode, on both
		// sides of every watch event and write.
		cfg.ContentType = runtime.ContentTypeProtobuf
		cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("controller manager client: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("controller manager metadata client: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	id, err := newIdentity()
	if err != nil {
		return nil, err
	}
	return &Manager{
		opts:         opts,
		constructors: constructors,
		client:       client,
		metadata:     meta,
		log:          opts.Logger.With("component", "controller-manager"),
		identity:     id,
		election:     DefaultElection,
	}, nil
}

// Identity is this manager's name in the Lease (hostname_random).
func (m *Manager) Identity() string { return m.identity }

// Run campaigns for the Lease and runs the controllers while it holds it;
// when leadership is lost it stops them and campaigns again. It returns nil
// when ctx ends, after every controller stopped and the Lease was released,
// or an error when a controller cannot be built.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return errors.New("controller manager: Run called twice")
	}
	m.running = true
	m.mu.Unlock()

	events := newRecorders(m.client)
	defer events.shutdown()
	return m.campaign(ctx, func(ctx context.Context) error { return m.lead(ctx, events) })
}

// lead runs one leadership term: fresh informers and controllers, stopped
// and waited for when ctx ends.
func (m *Manager) lead(ctx context.Context, events *recorders) error {
	factory := informers.NewSharedInformerFactory(m.client, 0)
	defer factory.Shutdown()
	cc := &controller.Context{
		Client:    m.client,
		Metadata:  m.metadata,
		Informers: factory,
		Events:    events.get,
		Now:       time.Now,
		Options:   m.opts,
		Log:       m.opts.Logger,
	}
	var ctrls []controller.Controller
	for _, build := range m.constructors {
		c, err := build(cc)
		if err != nil {
			return fmt.Errorf("build controller: %w", err)
		}
		ctrls = append(ctrls, c)
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	var wg sync.WaitGroup
	for _, c := range ctrls {
		wg.Go(func() {
			m.log.Info("starting controller", "controller", c.Name())
			if err := c.Run(ctx, Workers); err != nil {
				m.log.Error("controller stopped", "controller", c.Name(), "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

// recorders hands out one event recorder per component, all writing
// through one broadcaster.
type recorders struct {
	broadcaster record.EventBroadcaster
	mu          sync.Mutex
	byName      map[string]record.EventRecorder
}

func newRecorders(client kubernetes.Interface) *recorders {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return &recorders{broadcaster: b, byName: map[string]record.EventRecorder{}}
}

func (r *recorders) get(component string) record.EventRecorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec, ok := r.byName[component]; ok {
		return rec
	}
	rec := r.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
	r.byName[component] = rec
	return rec
}

func (r *recorders) shutdown() { r.broadcaster.Shutdown() }

func newIdentity() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "tug"
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("leader election identity: %w", err)
	}
	return host + "_" + hex.EncodeToString(b), nil
}
