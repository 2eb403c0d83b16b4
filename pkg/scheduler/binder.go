package scheduler

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Binder assigns a pod to a node.
type Binder interface {
	Bind(ctx context.Context, pod *corev1.Pod, node string) error
}

// apiBinder binds through the pods/binding subresource.
type apiBinder struct{ client kubernetes.Interface }

func (b apiBinder) Bind(ctx context.Context, pod *corev1.Pod, node string) error {
	err := b.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("bind %s/%s to %s: %w", pod.Namespace, pod.Name, node, err)
	}
	return nil
}

// annotateClaims tells the provisioner of each delayed claim which node
// its consumer was scheduled to.
func annotateClaims(ctx context.Context, client kubernetes.Interface, plan *volumePlan, node string) error {
	if plan == nil {
		return nil
	}
	for _, pvc := range plan.delayed {
		if pvc.Annotations[annotationSelectedNode] == node {
			continue
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
			"annotations": map[string]string{annotationSelectedNode: node}}})
		if err != nil {
			return err
		}
		if _, err := client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Patch(ctx, pvc.Name,
			types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("annotate claim %s/%s with the selected node: %w", pvc.Namespace, pvc.Name, err)
		}
	}
	return nil
}
