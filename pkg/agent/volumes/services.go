package volumes

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// serviceEnv returns the service link variables of pod: the API server's
// own service ("kubernetes" in "default") always, and, unless
// enableServiceLinks is false, every service of the pod's namespace that
// has a cluster IP. A service of the pod's namespace named "kubernetes"
// wins over the API server's.
func (m *Manager) serviceEnv(ctx context.Context, pod *corev1.Pod) (map[string]string, error) {
	byName := map[string]*corev1.Service{}
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	if links {
		list, err := m.client.CoreV1().Services(pod.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list services of namespace %s: %w", pod.Namespace, err)
		}
		for i := range list.Items {
			if hasClusterIP(&list.Items[i]) {
				byName[list.Items[i].Name] = &list.Items[i]
			}
		}
	}
	if _, ok := byName["kubernetes"]; !ok {
		svc, err := m.client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("get service default/kubernetes: %w", err)
		case hasClusterIP(svc):
			byName[svc.Name] = svc
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	env := map[string]string{}
	for _, n := range names {
		addServiceVars(env, byName[n])
	}
	return env, nil
}

func hasClusterIP(s *corev1.Service) bool {
	return s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone
}

// envName makes a service or port name a variable name: upper case, '-'
// as '_'.
func envName(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }

// addServiceVars adds the {SVC}_SERVICE_HOST/_PORT variables and the
// Docker-link style {SVC}_PORT* variables of one service.
func addServiceVars(env map[string]string, s *corev1.Service) {
	name := envName(s.Name)
	ip := s.Spec.ClusterIP
	env[name+"_SERVICE_HOST"] = ip
	if len(s.Spec.Ports) == 0 {
		return
	}
	first := s.Spec.Ports[0]
	env[name+"_SERVICE_PORT"] = strconv.Itoa(int(first.Port))
	for _, p := range s.Spec.Ports {
		if p.Name != "" {
			env[name+"_SERVICE_PORT_"+envName(p.Name)] = strconv.Itoa(int(p.Port))
		}
	}
	env[name+"_PORT"] = linkURL(first, ip)
	for _, p := range s.Spec.Ports {
		proto := protocolOf(p)
		prefix := fmt.Sprintf("%s_PORT_%d_%s", name, p.Port, strings.ToUpper(proto))
		env[prefix] = linkURL(p, ip)
		env[prefix+"_PROTO"] = strings.ToLower(proto)
		env[prefix+"_PORT"] = strconv.Itoa(int(p.Port))
		env[prefix+"_ADDR"] = ip
	}
}

func protocolOf(p corev1.ServicePort) string {
	if p.Protocol == "" {
		return string(corev1.ProtocolTCP)
	}
	return string(p.Protocol)
}

func linkURL(p corev1.ServicePort, ip string) string {
	return strings.ToLower(protocolOf(p)) + "://" + net.JoinHostPort(ip, strconv.Itoa(int(p.Port)))
}
