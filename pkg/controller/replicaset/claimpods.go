package replicaset

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/pkg/controller"
)

// ClaimPods is Claim for a workload controller's pods: the candidates are
// owner's own pods and its namespace's orphans, read through
// controller.ControllerUIDIndex on indexer (those keep rejects are left
// out; nil keeps all); adoption and release patch the pods through client.
func ClaimPods(ctx context.Context, client kubernetes.Interface, indexer cache.Indexer, owner metav1.Object, ownerKind metav1.TypeMeta,
	selector labels.Selector, keep func(*corev1.Pod) bool, canAdopt func(context.Context) error) ([]*corev1.Pod, error) {
	all, err := controller.OwnedOrOrphaned[*corev1.Pod](indexer, owner.GetNamespace(), owner.GetUID())
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	if keep != nil {
		all = slices.DeleteFunc(all, func(p *corev1.Pod) bool { return !keep(p) })
	}
	pods, err := Claim(ctx, owner, ownerKind, selector, all, ClaimActions[*corev1.Pod]{
		CanAdopt: canAdopt,
		Patch: func(ctx context.Context, p *corev1.Pod, patch []byte) error {
			_, err := client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("claim pods of %s %s: %w", ownerKind.Kind, owner.GetName(), err)
	}
	return pods, nil
}
