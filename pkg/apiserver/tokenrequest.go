package apiserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/pkg/apiserver/satoken"
	"github.com/tugcluster/tug/pkg/storage"
)

// defaultTokenSeconds is a TokenRequest's lifetime when it names none.
const defaultTokenSeconds int64 = 3600

var tokenRequestKind = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")

// createToken serves serviceaccounts/token: it signs a token for the
// service account, bound to a pod, secret or node when the request says
// so; the token stops authenticating when that object is gone.
func (s *Server) createToken(req *request) error {
	obj, out, o, err := s.readPosted(req, tokenRequestKind, &authenticationv1.TokenRequest{})
	if err != nil {
		return err
	}
	tr, ok := obj.(*authenticationv1.TokenRequest)
	if !ok {
		return apierrors.NewBadRequest("expected a TokenRequest object")
	}
	if tr.Spec.ExpirationSeconds == nil {
		tr.Spec.ExpirationSeconds = ptr.To(defaultTokenSeconds)
	}
	if errs := validateTokenRequest(tr); len(errs) > 0 {
		return apierrors.NewInvalid(tokenRequestKind.GroupKind(), req.info.Name, errs)
	}
	sa := &corev1.ServiceAccount{}
	if err := req.res.store.Get(req.Context(), req.res.key(req.info.Namespace, req.info.Name), storage.GetOptions{}, sa); err != nil {
		return err
	}
	now := time.Now()
	claims := satoken.Claims{
		Subject:  satoken.Subject(sa.Namespace, sa.Name),
		Audience: tr.Spec.Audiences,
		IssuedAt: now.Unix(), NotBefore: now.Unix(),
		Expiry: now.Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second).Unix(),
		ID:     string(uuid.NewUUID()),
		Kubernetes: satoken.Private{Namespace: sa.Namespace,
			ServiceAccount: satoken.Ref{Name: sa.Name, UID: string(sa.UID)}},
	}
	if len(claims.Audience) == 0 {
		claims.Audience = s.audiences
	}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if err := s.bindToken(req.Context(), sa, ref, &claims.Kubernetes); err != nil {
			return err
		}
	}
	tr.ObjectMeta = metav1.ObjectMeta{Name: sa.Name, Namespace: sa.Namespace, CreationTimestamp: metav1.NewTime(now)}
	tr.Status.ExpirationTimestamp = metav1.NewTime(time.Unix(claims.Expiry, 0))
	if !o.dryRun {
		if tr.Status.Token, err = s.tokens.Sign(claims); err != nil {
			return fmt.Errorf("sign token: %w", err)
		}
	}
	s.writeObject(req.w, http.StatusCreated, tr, out)
	return nil
}

func validateTokenRequest(tr *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "expirationSeconds")
	switch secs := *tr.Spec.ExpirationSeconds; {
	case secs < 600:
		errs = append(errs, field.Invalid(p, secs, "may not specify a duration less than 10 minutes"))
	case secs > math.MaxUint32:
		errs = append(errs, field.Invalid(p, secs, "may not specify a duration larger than 2^32 seconds"))
	}
	for i, a := range tr.Spec.Audiences {
		if a == "" {
			errs = append(errs, field.Invalid(field.NewPath("spec", "audiences").Index(i), a, "may not be empty"))
		}
	}
	if ref := tr.Spec.BoundObjectRef; ref != nil && ref.Name == "" {
		errs = append(errs, field.Required(field.NewPath("spec", "boundObjectRef", "name"), ""))
	}
	return errs
}

// bindToken checks the object a token is bound to and names it in the
// claims, as Kubernetes' TokenRequest does for pods, secrets and nodes.
func (s *Server) bindToken(ctx context.Context, sa *corev1.ServiceAccount, ref *authenticationv1.BoundObjectReference, into *satoken.Private) error {
	if ref.APIVersion != "" && ref.APIVersion != "v1" {
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of apiVersion %q", ref.APIVersion))
	}
	var uid, resource string
	switch ref.Kind {
	case "Pod":
		pod := &corev1.Pod{}
		if err := s.getBound(ctx, "pods", sa.Namespace, ref.Name, pod); err != nil {
			return err
		}
		if pod.Spec.ServiceAccountName != sa.Name {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", sa.Name))
		}
		uid, resource = string(pod.UID), "pods"
		into.Pod = &satoken.Ref{Name: pod.Name, UID: uid}
		if pod.Spec.NodeName != "" {
			into.Node = &satoken.Ref{Name: pod.Spec.NodeName}
		}
	case "Secret":
		secret := &corev1.Secret{}
		if err := s.getBound(ctx, "secrets", sa.Namespace, ref.Name, secret); err != nil {
			return err
		}
		uid, resource = string(secret.UID), "secrets"
		into.Secret = &satoken.Ref{Name: secret.Name, UID: uid}
	case "Node":
		node := &corev1.Node{}
		if err := s.getBound(ctx, "nodes", "", ref.Name, node); err != nil {
			return err
		}
		uid, resource = string(node.UID), "nodes"
		into.Node = &satoken.Ref{Name: node.Name, UID: uid}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to object of kind %q", sa.Name, ref.Kind))
	}
	if ref.UID != "" && string(ref.UID) != uid {
		return apierrors.NewConflict(schema.GroupResource{Resource: resource}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return nil
}

// getBound reads the object a token is bound to; a missing one is 404
// naming its own resource.
func (s *Server) getBound(ctx context.Context, resource, namespace, name string, into runtime.Object) error {
	r := s.lookup("", "v1", resource)
	err := r.store.Get(ctx, r.key(namespace, name), storage.GetOptions{}, into)
	if errors.Is(err, storage.ErrNotFound) {
		return apierrors.NewNotFound(r.GroupResource(), name)
	}
	return err
}
