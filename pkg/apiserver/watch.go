package apiserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
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

// streamWatch writes events (newline-delimited JSON, or length-prefixed
// protobuf frames when negotiated) until the watch or the request ends.
func (s *Server) streamWatch(ctx context.Context, req *request, w watch.Interface, out outputKind) error {
	flusher, _ := req.w.(http.Flusher)
	tableOpts, err := tableOptionsFrom(req.Request)
	if err != nil {
		return err
	}
	write, contentType := s.jsonEvents(req.w), "application/json"
	if out == outProtobuf {
		write, contentType = s.protobufEvents(req.w), protobufType+";stream=watch"
	}
	h := req.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Transfer-Encoding", "chunked")
	req.w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			if err := write(ev.Type, s.watchObject(req, ev, out, &tableOpts)); err != nil {
				return nil
			}
			if flusher != nil && len(w.ResultChan()) == 0 {
				flusher.Flush()
			}
		}
	}
}

// eventWriter writes one watch event to a stream.
type eventWriter func(t watch.EventType, obj runtime.Object) error

// jsonEvents writes each event as one line of JSON.
func (s *Server) jsonEvents(w io.Writer) eventWriter {
	enc := json.NewEncoder(w)
	return func(t watch.EventType, obj runtime.Object) error {
		return enc.Encode(watchEvent{Type: t, Object: obj})
	}
}

// protobufEvents writes each event as Kubernetes does for protobuf
// clients: a 4-byte big-endian length, then a metav1.WatchEvent whose
// object is the object's own protobuf envelope.
func (s *Server) protobufEvents(w io.Writer) eventWriter {
	var obj bytes.Buffer
	var frame []byte
	return func(t watch.EventType, o runtime.Object) error {
		obj.Reset()
		if err := s.codecs.proto.Encode(o, &obj); err != nil {
			return err
		}
		ev := metav1.WatchEvent{Type: string(t), Object: runtime.RawExtension{Raw: obj.Bytes()}}
		n := ev.Size()
		frame = slices.Grow(frame[:0], 4+n)[:4+n]
		binary.BigEndian.PutUint32(frame, uint32(n))
		if _, err := ev.MarshalToSizedBuffer(frame[4:]); err != nil {
			return err
		}
		_, err := w.Write(frame)
		return err
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
