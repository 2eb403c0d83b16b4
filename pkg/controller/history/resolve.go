package history

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appslisters "k8s.io/client-go/listers/apps/v1"

	"github.com/tugcluster/tug/pkg/controller/replicaset"
)

// Owned lists the revisions parent controls, adopting orphans that match
// selector and releasing owned ones that stopped matching. canAdopt
// re-reads parent from the API before the first adoption.
func (c Client) Owned(ctx context.Context, lister appslisters.ControllerRevisionLister, parent metav1.Object, kind metav1.TypeMeta,
	selector labels.Selector, canAdopt func(context.Context) error) ([]*appsv1.ControllerRevision, error) {
	all, err := lister.ControllerRevisions(parent.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	revs, err := replicaset.Claim(ctx, parent, kind, selector, all, replicaset.ClaimActions[*appsv1.ControllerRevision]{
		CanAdopt: canAdopt,
		Patch: func(ctx context.Context, r *appsv1.ControllerRevision, patch []byte) error {
			_, err := c.Client.AppsV1().ControllerRevisions(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("claim revisions of %s: %w", parent.GetName(), err)
	}
	Sort(revs)
	return revs, nil
}

// Resolve finds or makes the revision of the current template among revs
// (sorted, owned by parent). Duplicates recording the same template are
// deleted, an older equal revision is renumbered to be the newest (a
// rollback), and otherwise a new revision is created, raising
// *collisionCount on a name collision. It returns the current revision
// and all remaining revisions, sorted.
func (c Client) Resolve(ctx context.Context, parent metav1.Object, kind metav1.TypeMeta, template *corev1.PodTemplateSpec,
	revs []*appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	var equal, rest []*appsv1.ControllerRevision
	for _, r := range revs {
		if Records(r, template) {
			equal = append(equal, r)
		} else {
			rest = append(rest, r)
		}
	}
	next := Next(revs)
	var cur *appsv1.ControllerRevision
	var err error
	if n := len(equal); n > 0 {
		for _, dup := range equal[:n-1] {
			if err := c.Delete(ctx, dup); err != nil {
				return nil, nil, err
			}
		}
		cur = equal[n-1]
		if cur.Revision != next-1 {
			if cur, err = c.Renumber(ctx, cur, next); err != nil {
				return nil, nil, err
			}
		}
	} else if cur, err = c.Create(ctx, parent, kind, template, next, collisionCount); err != nil {
		return nil, nil, err
	}
	all := append(rest, cur)
	Sort(all)
	return cur, all, nil
}
