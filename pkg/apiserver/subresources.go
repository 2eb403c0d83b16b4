package apiserver

import (
	"fmt"
	"net/http"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/pkg/storage"
)

// serveSubresource routes /status, /scale and the per-kind subresources.
func (s *Server) serveSubresource(req *request) error {
	sub, verb := req.info.Subresource, req.info.Verb
	core := req.res.Group == ""
	switch {
	case sub == "status" && req.res.Status:
		switch verb {
		case "get":
			return s.get(req)
		case "update":
			return s.update(req, updateStatus)
		case "patch":
			return s.patch(req, updateStatus)
		}
		return errMethodNotAllowed(req)
	case sub == "scale" && req.res.Scale != nil:
		return s.serveScale(req)
	case core && req.res.Name == "pods" && sub == "binding" && verb == "create":
		return s.bindPod(req)
	case core && req.res.Name == "pods" && sub == "eviction" && verb == "create":
		return s.evictPod(req)
	case core && req.res.Name == "serviceaccounts" && sub == "token" && verb == "create":
		return s.createToken(req)
	case core && req.res.Name == "namespaces" && sub == "finalize" && verb == "update":
		return s.finalizeNamespace(req)
	case core && req.res.Name == "pods" && isStreamSubresource(sub):
		return s.proxyPodStream(req)
	}
	return errNotFoundPath()
}

func isStreamSubresource(sub string) bool {
	switch sub {
	case "log", "exec", "attach", "portforward", "proxy":
		return true
	}
	return false
}

func (s *Server) serveScale(req *request) error {
	out, err := negotiate(req.Request)
	if err != nil {
		return err
	}
	r := req.res
	switch req.info.Verb {
	case "get":
		obj := r.New()
		if err := r.store.Get(req.Context(), r.key(req.info.Namespace, req.info.Name), storage.GetOptions{}, obj); err != nil {
			return err
		}
		return s.respondObject(req, http.StatusOK, scaleOf(r, obj), out)
	case "update", "patch":
	default:
		return errMethodNotAllowed(req)
	}
	o, err := parseWriteOptions(req)
	if err != nil {
		return err
	}
	body, err := readBody(req.Request)
	if err != nil {
		return err
	}
	pt := types.PatchType(mediaType(req.Header.Get("Content-Type")))
	if req.info.Verb == "patch" {
		if err := checkPatchSyntax(pt, body); err != nil {
			return err
		}
	}
	updated, err := s.updateObject(req.Context(), r, updateMain, req.info.Namespace, req.info.Name, o.dryRun,
		func(current runtime.Object) (runtime.Object, error) {
			want, err := s.requestedScale(req, pt, body, scaleOf(r, current))
			if err != nil {
				return nil, err
			}
			cm, _ := meta.Accessor(current)
			if want.ResourceVersion != "" && want.ResourceVersion != cm.GetResourceVersion() {
				return nil, apierrors.NewConflict(r.GroupResource(), req.info.Name, fmt.Errorf("%s", conflictMessage))
			}
			if want.Spec.Replicas < 0 {
				return nil, invalidScale(want)
			}
			obj := current.DeepCopyObject()
			r.Scale.SetReplicas(obj, want.Spec.Replicas)
			return obj, nil
		})
	if err != nil {
		return err
	}
	return s.respondObject(req, http.StatusOK, scaleOf(r, updated), out)
}

// requestedScale decodes a Scale from a PUT body or by patching current.
func (s *Server) requestedScale(req *request, pt types.PatchType, body []byte, current *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
	data, ct := body, req.Header.Get("Content-Type")
	if req.info.Verb == "patch" {
		var err error
		if data, err = applyPatch(pt, body, current, &autoscalingv1.Scale{}); err != nil {
			return nil, err
		}
		ct = "application/json"
	}
	res, err := s.codecs.decode(ct, data, autoscalingv1.SchemeGroupVersion.WithKind("Scale"), &autoscalingv1.Scale{})
	if err != nil {
		return nil, err
	}
	sc, ok := res.obj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest("expected a Scale object")
	}
	return sc, nil
}

func invalidScale(sc *autoscalingv1.Scale) error {
	return apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), sc.Name,
		fieldErrors("spec.replicas", sc.Spec.Replicas, "must be greater than or equal to 0"))
}

// scaleOf is the autoscaling/v1 Scale view of a scalable object.
func scaleOf(r *resource, obj runtime.Object) *autoscalingv1.Scale {
	m, _ := meta.Accessor(obj)
	spec, status, selector := r.Scale.Get(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: selector},
	}
}

// respondObject writes an object that is not of the request's resource
// kind (Scale, Status), as JSON or YAML.
func (s *Server) respondObject(req *request, code int, obj runtime.Object, out outputKind) error {
	if out == outTable || out == outPartial {
		out = outJSON
	}
	s.writeObject(req.w, code, obj, out)
	return nil
}
