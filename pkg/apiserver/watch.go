package apiserver

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// watchEvent is one line of a watch stream.
type watchEvent struct {
	Type   watch.EventType `json:"type"`
	Object any             `json:"object"`
}

func (s *Server) watch(req *request) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	o, opts, err := s.listOptions(req)
	if err != nil {
		return err
	}
	key := req.res.listKey(req.info.Namespace)
	if req.info.Name != "" {
		// /watch/namespaces/ns/pods/name: one object.
		opts.Predicate.Field = fields.AndSelectors(opts.Predicate.Field, fields.OneTermEqualSelector("metadata.name", req.info.Name))
	}
	timeout := time.Duration(30+rand.IntN(30)) * time.Minute
	if o.TimeoutSeconds != nil {
		timeout = time.Duration(*o.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	w, err := req.res.store.Watch(ctx, key, opts)
	if err != nil {
		return err
	}
	defer w.Stop()
	return s.streamWatch(ctx, req, w, out)
}

// streamWatch writes events as newline-delimited JSON until the watch or
// the request ends.
func (s *Server) streamWatch(ctx context.Context, req *request, w watch.Interface, out outputKind) error {
	flusher, _ := req.w.(http.Flusher)
	tableOpts, err := tableOptionsFrom(req.Request)
	if err != nil {
		return err
	}
	h := req.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Transfer-Encoding", "chunked")
	req.w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(req.w)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			obj := s.watchObject(req, ev, out, &tableOpts)
			if err := enc.Encode(watchEvent{Type: ev.Type, Object: obj}); err != nil {
				return nil
			}
			if flusher != nil && len(w.ResultChan()) == 0 {
				flusher.Flush()
			}
		}
	}
}

// watchObject shapes one event's object for the negotiated output.
func (s *Server) watchObject(req *request, ev watch.Event, out outputKind, o *tableOptions) runtime.Object {
	if ev.Type == watch.Error {
		if st, ok := ev.Object.(*metav1.Status); ok {
			st.Kind, st.APIVersion = "Status", "v1"
		}
		return ev.Object
	}
	switch out {
	case outTable:
		var lm metav1.ListMeta
		objs := []runtime.Object{ev.Object}
		if ev.Type == watch.Bookmark {
			objs = nil
			if m, err := meta.Accessor(ev.Object); err == nil {
				lm.ResourceVersion = m.GetResourceVersion()
			}
		}
		t := s.toTable(req.res, objs, lm, *o)
		o.noColumns = true
		return t
	case outPartial:
		return partialMetadata(ev.Object)
	}
	s.codecs.setKind(ev.Object)
	return ev.Object
}
