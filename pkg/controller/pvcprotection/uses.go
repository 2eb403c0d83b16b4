package pvcprotection

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// podsByClaim indexes pods by the "namespace/name" of each claim their
// volumes name, so the users of a claim are found without scanning the
// pods of its namespace.
const podsByClaim = "tug.podsByClaim"

// addClaimIndex adds podsByClaim to the shared pod informer; it must run
// before the informer starts.
func addClaimIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[podsByClaim]; ok {
		return nil
	}
	if err := inf.AddIndexers(cache.Indexers{podsByClaim: indexByClaim}); err != nil {
		return fmt.Errorf("add %s index: %w", podsByClaim, err)
	}
	return nil
}

func indexByClaim(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	names := claimNames(pod)
	keys := make([]string, len(names))
	for i, name := range names {
		keys[i] = claimKey(pod.Namespace, name)
	}
	return keys, nil
}

func claimKey(namespace, name string) string {
	return cache.ObjectName{Namespace: namespace, Name: name}.String()
}

// claimNames returns the claims the pod's volumes refer to: a
// persistentVolumeClaim volume by claimName, a generic ephemeral volume by
// the claim created for it, "<pod name>-<volume name>".
func claimNames(pod *corev1.Pod) []string {
	var names []string
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			names = append(names, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			names = append(names, pod.Name+"-"+v.Name)
		}
	}
	return names
}

// terminated reports whether the pod's containers will never run again.
func terminated(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// usesClaim reports whether pod keeps the claim namespace/name in use: it
// refers to it and has not terminated. Scheduled or not does not matter.
func usesClaim(pod *corev1.Pod, namespace, name string) bool {
	return pod.Namespace == namespace && !terminated(pod) && slices.Contains(claimNames(pod), name)
}
