package history

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/pkg/controller/deployment"
	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// HashLabel is the label carrying a revision's hash, on the revision and on
// the pods made from it.
const HashLabel = appsv1.ControllerRevisionHashLabelKey

// maxCollisions bounds the name-collision retries of Create.
const maxCollisions = 100

// New builds the revision of template for parent: named
// <parent>-<hash>, labelled with the template's labels and the hash,
// controlled by parent.
func New(parent metav1.Object, kind metav1.TypeMeta, template *corev1.PodTemplateSpec, revision int64,
	collisionCount *int32) (*appsv1.ControllerRevision, error) {
	data, err := patchOf(template)
	if err != nil {
		return nil, err
	}
	hash := deployment.ComputeHash(template, collisionCount)
	lbls := maps.Clone(template.Labels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[HashLabel] = hash
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            parent.GetName() + "-" + hash,
			Namespace:       parent.GetNamespace(),
			Labels:          lbls,
			OwnerReferences: []metav1.OwnerReference{replicaset.ControllerRef(parent, kind)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}, nil
}

// patchOf renders the rollback patch of a template.
func patchOf(template *corev1.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(template)
	if err != nil {
		return nil, fmt.Errorf("encode pod template: %w", err)
	}
	var t map[string]any
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decode pod template: %w", err)
	}
	t["$patch"] = "replace"
	data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": t}})
	if err != nil {
		return nil, fmt.Errorf("encode revision data: %w", err)
	}
	return data, nil
}

// Template decodes the pod template a revision recorded.
func Template(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var snap struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	raw := rev.Data.Raw
	if raw == nil && rev.Data.Object != nil {
		var err error
		if raw, err = json.Marshal(rev.Data.Object); err != nil {
			return nil, fmt.Errorf("encode revision %s: %w", rev.Name, err)
		}
	}
	if err := json.Unmarshal(raw, &snap); err != nil {
		return nil, fmt.Errorf("decode revision %s: %w", rev.Name, err)
	}
	return &snap.Spec.Template, nil
}

// Hash is the hash a revision gives the pods made from it.
func Hash(rev *appsv1.ControllerRevision) string { return rev.Labels[HashLabel] }

// Records reports whether rev recorded template (compared as decoded
// templates, so a re-encoded revision still matches).
func Records(rev *appsv1.ControllerRevision, template *corev1.PodTemplateSpec) bool {
	t, err := Template(rev)
	if err != nil {
		return false
	}
	return equality.Semantic.DeepEqual(t, template)
}

// Sort orders revisions oldest first: by revision number, then creation
// time, then name.
func Sort(revs []*appsv1.ControllerRevision) {
	slices.SortStableFunc(revs, func(a, b *appsv1.ControllerRevision) int {
		if c := cmp.Compare(a.Revision, b.Revision); c != 0 {
			return c
		}
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// Next is the revision number after the highest of revs (1 for none).
func Next(revs []*appsv1.ControllerRevision) int64 {
	var top int64
	for _, r := range revs {
		top = max(top, r.Revision)
	}
	return top + 1
}

// Client writes revisions.
type Client struct {
	Client kubernetes.Interface
}

// Create stores the revision of template; when another template already
// holds the name it raises *collisionCount and tries the next name. An
// existing revision recording the same template is returned as is.
func (c Client) Create(ctx context.Context, parent metav1.Object, kind metav1.TypeMeta, template *corev1.PodTemplateSpec,
	revision int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	for range maxCollisions {
		rev, err := New(parent, kind, template, revision, collisionCount)
		if err != nil {
			return nil, err
		}
		created, err := c.Client.AppsV1().ControllerRevisions(rev.Namespace).Create(ctx, rev, metav1.CreateOptions{})
		if err == nil {
			return created, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create revision %s: %w", rev.Name, err)
		}
		existing, gerr := c.Client.AppsV1().ControllerRevisions(rev.Namespace).Get(ctx, rev.Name, metav1.GetOptions{})
		if gerr != nil {
			return nil, fmt.Errorf("get revision %s: %w", rev.Name, gerr)
		}
		if metav1.IsControlledBy(existing, parent) && Records(existing, template) {
			return existing, nil
		}
		*collisionCount++
	}
	return nil, fmt.Errorf("create revision of %s: %w", parent.GetName(), errTooManyCollisions)
}

var errTooManyCollisions = errors.New("too many hash collisions")

// Renumber gives an existing revision a new revision number (a rollback
// makes an old template the newest again).
func (c Client) Renumber(ctx context.Context, rev *appsv1.ControllerRevision, revision int64) (*appsv1.ControllerRevision, error) {
	if rev.Revision == revision {
		return rev, nil
	}
	rev = rev.DeepCopy()
	rev.Revision = revision
	updated, err := c.Client.AppsV1().ControllerRevisions(rev.Namespace).Update(ctx, rev, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("renumber revision %s: %w", rev.Name, err)
	}
	return updated, nil
}

// Delete removes a revision; one already gone is fine.
func (c Client) Delete(ctx context.Context, rev *appsv1.ControllerRevision) error {
	err := c.Client.AppsV1().ControllerRevisions(rev.Namespace).Delete(ctx, rev.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &rev.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete revision %s: %w", rev.Name, err)
	}
	return nil
}

// Stale picks the revisions to delete so that at most limit revisions
// remain besides those in use (named in live); the oldest go first. revs
// must be sorted with Sort.
func Stale(revs []*appsv1.ControllerRevision, live map[string]bool, limit int) []*appsv1.ControllerRevision {
	var candidates []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) <= limit {
		return nil
	}
	return candidates[:len(candidates)-limit]
}
