package registry

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// containerCheck holds what container validation needs to know about the
// rest of the pod.
type containerCheck struct {
	volumes   sets.Set[string] // names of the pod's volumes
	names     sets.Set[string] // container names seen so far
	portNames sets.Set[string] // named ports seen so far
	hostPorts sets.Set[string] // "hostIP/port/protocol" seen so far
}

func validatePodContainers(spec *corev1.PodSpec, volumes sets.Set[string], p *field.Path) field.ErrorList {
	chk := &containerCheck{volumes: volumes, names: sets.New[string](), portNames: sets.New[string](), hostPorts: sets.New[string]()}
	var errs field.ErrorList
	for i := range spec.InitContainers {
		errs = append(errs, chk.validate(&spec.InitContainers[i], true, p.Child("initContainers").Index(i))...)
	}
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	for i := range spec.Containers {
		errs = append(errs, chk.validate(&spec.Containers[i], false, p.Child("containers").Index(i))...)
	}
	for i := range spec.EphemeralContainers {
		c := (*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon)
		ep := p.Child("ephemeralContainers").Index(i)
		errs = append(errs, chk.validateCommon(c, ep)...)
		if len(c.Ports) > 0 {
			errs = append(errs, field.Forbidden(ep.Child("ports"), "cannot be set for an Ephemeral Container"))
		}
	}
	return errs
}

func (chk *containerCheck) validate(c *corev1.Container, init bool, p *field.Path) field.ErrorList {
	errs := chk.validateCommon(c, p)
	sidecar := init && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	if c.RestartPolicy != nil {
		if !init {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		} else if !sidecar {
			errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
		}
	}
	probes := []struct {
		name             string
		probe            *corev1.Probe
		successMustBeOne bool
	}{
		{"livenessProbe", c.LivenessProbe, true},
		{"readinessProbe", c.ReadinessProbe, false},
		{"startupProbe", c.StartupProbe, true},
	}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init && !sidecar {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "may not be set for init containers without restartPolicy=Always"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.successMustBeOne, p.Child(pr.name))...)
	}
	if c.Lifecycle != nil {
		if init && !sidecar {
			errs = append(errs, field.Forbidden(p.Child("lifecycle"), "may not be set for init containers without restartPolicy=Always"))
		} else {
			errs = append(errs, validateLifecycle(c.Lifecycle, p.Child("lifecycle"))...)
		}
	}
	errs = append(errs, chk.validatePorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	return errs
}

// validateCommon checks what every kind of container shares.
func (chk *containerCheck) validateCommon(c *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, validateDNSLabelField(c.Name, p.Child("name"))...)
		if chk.names.Has(c.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		}
		chk.names.Insert(c.Name)
	}
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validateEnum(c.ImagePullPolicy, p.Child("imagePullPolicy"),
		corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	errs = append(errs, validateEnum(c.TerminationMessagePolicy, p.Child("terminationMessagePolicy"),
		corev1.TerminationMessageFallbackToLogsOnError, corev1.TerminationMessageReadFile)...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, chk.validateVolumeMounts(c.VolumeMounts, p.Child("volumeMounts"))...)
	for i, d := range c.VolumeDevices {
		dp := p.Child("volumeDevices").Index(i)
		if !chk.volumes.Has(d.Name) {
			errs = append(errs, field.NotFound(dp.Child("name"), d.Name))
		}
		if d.DevicePath == "" {
			errs = append(errs, field.Required(dp.Child("devicePath"), ""))
		}
	}
	if sc := c.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validateOptionalID(sc.RunAsUser, sp.Child("runAsUser"))...)
		errs = append(errs, validateOptionalID(sc.RunAsGroup, sp.Child("runAsGroup"))...)
	}
	return errs
}

func (chk *containerCheck) validatePorts(ports []corev1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if chk.portNames.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			chk.portNames.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			errs = append(errs, validatePortNumber(port.ContainerPort, pp.Child("containerPort"))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, validatePortNumber(port.HostPort, pp.Child("hostPort"))...)
			key := fmt.Sprintf("%s/%d/%s", port.HostIP, port.HostPort, port.Protocol)
			if chk.hostPorts.Has(key) {
				errs = append(errs, field.Duplicate(pp.Child("hostPort"), fmt.Sprintf("%d/%s", port.HostPort, port.Protocol)))
			}
			chk.hostPorts.Insert(key)
		}
		errs = append(errs, validateProtocol(port.Protocol, pp.Child("protocol"))...)
		if port.HostIP != "" {
			errs = append(errs, validation.IsValidIP(pp.Child("hostIP"), port.HostIP)...)
		}
	}
	return errs
}

func validateProtocol(proto corev1.Protocol, p *field.Path) field.ErrorList {
	return validateEnum(proto, p, corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP)
}

// envFieldPaths are the pod fields an env var may reference.
var envFieldPaths = []string{
	"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

func validateEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ep := p.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
				errs = append(errs, field.Invalid(ep.Child("name"), ev.Name, msg))
			}
		}
		if ev.ValueFrom != nil {
			errs = append(errs, validateEnvSource(ev, ep.Child("valueFrom"))...)
		}
	}
	return errs
}

func validateEnvSource(ev corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	src := ev.ValueFrom
	n := 0
	if src.FieldRef != nil {
		n++
		errs = append(errs, validateEnvFieldRef(src.FieldRef, p.Child("fieldRef"))...)
	}
	if src.ResourceFieldRef != nil {
		n++
		if src.ResourceFieldRef.Resource == "" {
			errs = append(errs, field.Required(p.Child("resourceFieldRef", "resource"), ""))
		}
	}
	if r := src.ConfigMapKeyRef; r != nil {
		n++
		errs = append(errs, validateKeyRef(r.Name, r.Key, p.Child("configMapKeyRef"))...)
	}
	if r := src.SecretKeyRef; r != nil {
		n++
		errs = append(errs, validateKeyRef(r.Name, r.Key, p.Child("secretKeyRef"))...)
	}
	if src.FileKeyRef != nil {
		n++
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
	case ev.Value != "":
		errs = append(errs, field.Invalid(p, "", "may not be specified when `value` is not empty"))
	}
	return errs
}

func validateEnvFieldRef(ref *corev1.ObjectFieldSelector, p *field.Path) field.ErrorList {
	if ref.FieldPath == "" {
		return field.ErrorList{field.Required(p.Child("fieldPath"), "")}
	}
	fp := ref.FieldPath
	if i := strings.Index(fp, "['"); i > 0 && strings.HasSuffix(fp, "']") {
		switch fp[:i] {
		case "metadata.labels", "metadata.annotations":
			return nil
		}
	}
	for _, allowed := range envFieldPaths {
		if fp == allowed && allowed != "metadata.labels" && allowed != "metadata.annotations" {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(p.Child("fieldPath"), fp, envFieldPaths)}
}

func validateKeyRef(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(p.Child("key"), key, msg))
		}
	}
	return errs
}

func validateEnvFrom(sources []corev1.EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range sources {
		sp := p.Index(i)
		n := 0
		if s.ConfigMapRef != nil {
			n++
			if s.ConfigMapRef.Name == "" {
				errs = append(errs, field.Required(sp.Child("configMapRef", "name"), ""))
			}
		}
		if s.SecretRef != nil {
			n++
			if s.SecretRef.Name == "" {
				errs = append(errs, field.Required(sp.Child("secretRef", "name"), ""))
			}
		}
		if n == 0 {
			errs = append(errs, field.Invalid(sp, "", "must specify one of: `configMapRef` or `secretRef`"))
		} else if n > 1 {
			errs = append(errs, field.Invalid(sp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func (chk *containerCheck) validateVolumeMounts(mounts []corev1.VolumeMount, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		mp := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !chk.volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
		if m.SubPath != "" {
			errs = append(errs, validateRelativePath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPath != "" && m.SubPathExpr != "" {
			errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
		}
		if m.MountPropagation != nil {
			errs = append(errs, validateEnum(*m.MountPropagation, mp.Child("mountPropagation"),
				corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone)...)
		}
	}
	return errs
}

// validateRelativePath checks a path that must stay inside a volume.
func validateRelativePath(value string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(value) {
		errs = append(errs, field.Invalid(p, value, "must be a relative path"))
	}
	for _, part := range strings.Split(value, "/") {
		if part == ".." {
			errs = append(errs, field.Invalid(p, value, "must not contain '..'"))
			break
		}
	}
	return errs
}

func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	errs := validateResourceList(r.Limits, p.Child("limits"))
	errs = append(errs, validateResourceList(r.Requests, p.Child("requests"))...)
	for _, name := range sortedResourceNames(r.Requests) {
		req := r.Requests[name]
		limit, ok := r.Limits[name]
		if ok && req.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return errs
}

func validateProbe(probe *corev1.Probe, successMustBeOne bool, p *field.Path) field.ErrorList {
	if probe == nil {
		return nil
	}
	errs := validateHandler(probe.ProbeHandler.Exec != nil, probe.HTTPGet, probe.TCPSocket, probe.GRPC != nil, p)
	errs = append(errs, validateNonnegative(int64(probe.InitialDelaySeconds), p.Child("initialDelaySeconds"))...)
	errs = append(errs, validateNonnegative(int64(probe.TimeoutSeconds), p.Child("timeoutSeconds"))...)
	errs = append(errs, validateNonnegative(int64(probe.PeriodSeconds), p.Child("periodSeconds"))...)
	errs = append(errs, validateNonnegative(int64(probe.SuccessThreshold), p.Child("successThreshold"))...)
	errs = append(errs, validateNonnegative(int64(probe.FailureThreshold), p.Child("failureThreshold"))...)
	if successMustBeOne && probe.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), probe.SuccessThreshold, "must be 1"))
	}
	if probe.TerminationGracePeriodSeconds != nil && *probe.TerminationGracePeriodSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *probe.TerminationGracePeriodSeconds, "must be greater than 0"))
	}
	return errs
}

func validateLifecycle(l *corev1.Lifecycle, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, h := range []struct {
		name    string
		handler *corev1.LifecycleHandler
	}{{"postStart", l.PostStart}, {"preStop", l.PreStop}} {
		if h.handler != nil {
			errs = append(errs, validateHandler(h.handler.Exec != nil || h.handler.Sleep != nil, h.handler.HTTPGet, h.handler.TCPSocket, false, p.Child(h.name))...)
		}
	}
	return errs
}

// validateHandler checks that exactly one action is set on a probe or
// lifecycle hook, and the ports of HTTP and TCP actions.
func validateHandler(exec bool, httpGet *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, grpc bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	for _, set := range []bool{exec, httpGet != nil, tcp != nil, grpc} {
		if set {
			n++
		}
	}
	if n == 0 {
		return field.ErrorList{field.Required(p, "must specify a handler type")}
	}
	if n > 1 {
		errs = append(errs, field.Forbidden(p, "may not specify more than 1 handler type"))
	}
	if httpGet != nil {
		errs = append(errs, validateNamedPort(httpGet.Port, p.Child("httpGet", "port"))...)
		errs = append(errs, validateEnum(httpGet.Scheme, p.Child("httpGet", "scheme"), corev1.URISchemeHTTP, corev1.URISchemeHTTPS)...)
	}
	if tcp != nil {
		errs = append(errs, validateNamedPort(tcp.Port, p.Child("tcpSocket", "port"))...)
	}
	return errs
}

// validateNamedPort checks a port given as a number or an IANA name.
func validateNamedPort(port intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.String {
		for _, msg := range validation.IsValidPortName(port.StrVal) {
			errs = append(errs, field.Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortNum(port.IntValue()) {
		errs = append(errs, field.Invalid(p, port.IntValue(), msg))
	}
	return errs
}
