package containerd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Files every container of a pod shares (bind-mounted read-only where
// the pod has its own network).
const (
	hostsFile    = "hosts"
	hostnameFile = "hostname"
	resolvFile   = "resolv.conf"
)

// podHostname is the pod's hostname and, with a subdomain, its FQDN.
func podHostname(pod *corev1.Pod, domain string) (name, fqdn string) {
	name = pod.Spec.Hostname
	if name == "" {
		name = pod.Name
	}
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-.")
	}
	if pod.Spec.Subdomain != "" {
		fqdn = fmt.Sprintf("%s.%s.%s.svc.%s", name, pod.Spec.Subdomain, pod.Namespace, domain)
	}
	return name, fqdn
}

// hostsContent is the pod's /etc/hosts: loopback, its own address and
// name, then spec.hostAliases.
func hostsContent(pod *corev1.Pod, ip, domain string) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	if ip != "" {
		name, fqdn := podHostname(pod, domain)
		if fqdn != "" {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", ip, fqdn, name)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, name)
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	return b.String()
}

// resolvContent is the pod's /etc/resolv.conf for its dnsPolicy; host is
// the host's resolv.conf, used by policy Default and when no cluster DNS
// is configured.
func resolvContent(pod *corev1.Pod, dns DNSConfig, host string) string {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
	}
	var servers, searches, options []string
	switch {
	case policy == corev1.DNSNone:
	case (policy == corev1.DNSClusterFirst || policy == corev1.DNSClusterFirstWithHostNet) && len(dns.Servers) > 0:
		servers = append(servers, dns.Servers...)
		searches = append(searches, pod.Namespace+".svc."+dns.Domain, "svc."+dns.Domain, dns.Domain)
		searches = append(searches, dns.Searches...)
		options = append([]string{"ndots:5"}, dns.Options...)
	default:
		for _, line := range strings.Split(host, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "nameserver":
				servers = append(servers, f[1])
			case "search", "domain":
				searches = append(searches, f[1:]...)
			case "options":
				options = append(options, f[1:]...)
			}
		}
	}
	if c := pod.Spec.DNSConfig; c != nil {
		servers = append(servers, c.Nameservers...)
		searches = append(searches, c.Searches...)
		for _, o := range c.Options {
			if o.Value != nil {
				options = append(options, o.Name+":"+*o.Value)
			} else {
				options = append(options, o.Name)
			}
		}
	}
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(searches, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.String()
}

// writePodFiles writes hosts, hostname and resolv.conf into dir.
func writePodFiles(dir string, pod *corev1.Pod, ip string, dns DNSConfig) error {
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	name, _ := podHostname(pod, dns.Domain)
	hosts := hostsContent(pod, ip, dns.Domain)
	if pod.Spec.HostNetwork {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
		if h, err := os.Hostname(); err == nil {
			name = h
		}
	}
	for file, content := range map[string]string{
		hostsFile:    hosts,
		hostnameFile: name + "\n",
		resolvFile:   resolvContent(pod, dns, string(hostResolv)),
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write pod %s: %w", file, err)
		}
	}
	return nil
}
