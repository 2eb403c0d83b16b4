package containerd

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// Registries is <data-dir>/registries.yaml, in k3s's format:
//
//	mirrors:
//	  docker.io:
//	    endpoint: ["http://registry.local:5000"]
//	configs:
//	  registry.local:5000:
//	    insecure: true            # plain HTTP
//	    tls: {insecure_skip_verify: true, ca_file: …, cert_file: …, key_file: …}
//	    auth: {username: …, password: …}
type Registries struct {
	Mirrors map[string]Mirror
	Configs map[string]RegistryConfig
}

// Mirror lists endpoints tried in order before the registry itself.
type Mirror struct {
	Endpoints []*url.URL
}

// RegistryConfig is how to talk to one registry host (host[:port]).
type RegistryConfig struct {
	// Insecure: speak plain HTTP where no endpoint scheme says otherwise.
	Insecure bool
	TLS      RegistryTLS
	Auth     RegistryAuth
}

// RegistryTLS configures HTTPS to a registry.
type RegistryTLS struct {
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
}

// RegistryAuth is a registry's default credentials.
type RegistryAuth struct {
	Username, Password, Auth, IdentityToken string
}

// LoadRegistries reads path; a missing file is an empty configuration.
func LoadRegistries(path string) (*Registries, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Registries{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseRegistries(path, b)
}

// ParseRegistries parses a registries.yaml; errors read
// "<file>:<line>: <problem>".
func ParseRegistries(file string, data []byte) (*Registries, error) {
	p := regParser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out := &Registries{Mirrors: map[string]Mirror{}, Configs: map[string]RegistryConfig{}}
	if len(doc.Content) == 0 {
		return out, nil
	}
	err := p.mapping(doc.Content[0], "top level", func(keyNode, v *yaml.Node) error {
		key := keyNode.Value
		switch key {
		case "mirrors":
			return p.mapping(v, "mirrors", func(hostNode, m *yaml.Node) error {
				host := hostNode.Value
				mirror, err := p.mirror(host, m)
				out.Mirrors[host] = mirror
				return err
			})
		case "configs":
			return p.mapping(v, "configs", func(hostNode, c *yaml.Node) error {
				host := hostNode.Value
				cfg, err := p.config(host, c)
				out.Configs[host] = cfg
				return err
			})
		}
		return p.errorf(keyNode, "unknown field %q (want mirrors or configs)", key)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type regParser struct{ file string }

func (p regParser) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, args...))
}

// mapping calls fn for each key of a mapping node.
func (p regParser) mapping(n *yaml.Node, what string, fn func(key, v *yaml.Node) error) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "%s must be a mapping", what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return p.errorf(k, "%s: keys must be non-empty strings", what)
		}
		if err := fn(k, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (p regParser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!map" || n.Tag == "!!seq" {
		return "", p.errorf(n, "%s must be a string", what)
	}
	return n.Value, nil
}

func (p regParser) boolean(n *yaml.Node, what string) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, p.errorf(n, "%s must be true or false, not %q", what, n.Value)
	}
	return strconv.ParseBool(n.Value)
}

func (p regParser) mirror(host string, n *yaml.Node) (Mirror, error) {
	var m Mirror
	err := p.mapping(n, "mirrors."+host, func(keyNode, v *yaml.Node) error {
		key := keyNode.Value
		if key != "endpoint" {
			return p.errorf(keyNode, "mirrors.%s: unknown field %q (want endpoint)", host, key)
		}
		if v.Kind != yaml.SequenceNode {
			return p.errorf(v, "mirrors.%s.endpoint must be a list of URLs", host)
		}
		for _, e := range v.Content {
			s, err := p.str(e, "mirrors."+host+".endpoint entry")
			if err != nil {
				return err
			}
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return p.errorf(e, "mirrors.%s.endpoint: %q is not an http:// or https:// URL", host, s)
			}
			m.Endpoints = append(m.Endpoints, u)
		}
		return nil
	})
	return m, err
}

func (p regParser) config(host string, n *yaml.Node) (RegistryConfig, error) {
	var c RegistryConfig
	prefix := "configs." + host
	err := p.mapping(n, prefix, func(keyNode, v *yaml.Node) error {
		key := keyNode.Value
		var err error
		switch key {
		case "insecure":
			c.Insecure, err = p.boolean(v, prefix+".insecure")
		case "tls":
			err = p.mapping(v, prefix+".tls", func(kNode, tv *yaml.Node) error {
				k := kNode.Value
				var err error
				switch k {
				case "insecure_skip_verify":
					c.TLS.InsecureSkipVerify, err = p.boolean(tv, prefix+".tls.insecure_skip_verify")
				case "insecure":
					c.Insecure, err = p.boolean(tv, prefix+".tls.insecure")
				case "ca_file":
					c.TLS.CAFile, err = p.str(tv, prefix+".tls.ca_file")
				case "cert_file":
					c.TLS.CertFile, err = p.str(tv, prefix+".tls.cert_file")
				case "key_file":
					c.TLS.KeyFile, err = p.str(tv, prefix+".tls.key_file")
				default:
					err = p.errorf(kNode, "%s.tls: unknown field %q", prefix, k)
				}
				return err
			})
		case "auth":
			err = p.mapping(v, prefix+".auth", func(kNode, av *yaml.Node) error {
				k := kNode.Value
				var err error
				switch k {
				case "username":
					c.Auth.Username, err = p.str(av, prefix+".auth.username")
				case "password":
					c.Auth.Password, err = p.str(av, prefix+".auth.password")
				case "auth":
					c.Auth.Auth, err = p.str(av, prefix+".auth.auth")
				case "identitytoken", "identity_token":
					c.Auth.IdentityToken, err = p.str(av, prefix+".auth."+k)
				default:
					err = p.errorf(kNode, "%s.auth: unknown field %q", prefix, k)
				}
				return err
			})
		default:
			err = p.errorf(keyNode, "%s: unknown field %q (want auth, tls or insecure)", prefix, key)
		}
		return err
	})
	if err == nil && (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		err = p.errorf(n, "%s.tls: cert_file and key_file go together", prefix)
	}
	return c, err
}
