package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Missing returns the parts of wanted that held does not cover, each as a
// rule of one verb, group, resource and name (or one verb and URL), the
// way Kubernetes' escalation check breaks rules down. A "*" in wanted is
// covered only by a "*" in held.
func Missing(held, wanted []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, w := range wanted {
		for _, atom := range atoms(w) {
			if !covered(held, atom) {
				out = append(out, atom)
			}
		}
	}
	return out
}

// atoms splits a rule into rules of one value per list.
func atoms(r rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, v := range r.Verbs {
		for _, u := range r.NonResourceURLs {
			out = append(out, rbacv1.PolicyRule{Verbs: []string{v}, NonResourceURLs: []string{u}})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				base := rbacv1.PolicyRule{Verbs: []string{v}, APIGroups: []string{g}, Resources: []string{res}}
				if len(r.ResourceNames) == 0 {
					out = append(out, base)
					continue
				}
				for _, n := range r.ResourceNames {
					a := base
					a.ResourceNames = []string{n}
					out = append(out, a)
				}
			}
		}
	}
	return out
}

func covered(held []rbacv1.PolicyRule, atom rbacv1.PolicyRule) bool {
	for i := range held {
		h := &held[i]
		if !hasOrStar(h.Verbs, atom.Verbs[0]) {
			continue
		}
		if len(atom.NonResourceURLs) > 0 {
			if nonResourceMatches(h.NonResourceURLs, atom.NonResourceURLs[0]) {
				return true
			}
			continue
		}
		if !hasOrStar(h.APIGroups, atom.APIGroups[0]) || !resourceCovers(h.Resources, atom.Resources[0]) {
			continue
		}
		if len(h.ResourceNames) == 0 || len(atom.ResourceNames) == 1 && hasOrStar(h.ResourceNames, atom.ResourceNames[0]) {
			return true
		}
	}
	return false
}

// resourceCovers: "*" covers everything, "*/sub" every resource's sub.
func resourceCovers(held []string, want string) bool {
	_, sub, hasSub := strings.Cut(want, "/")
	for _, h := range held {
		if h == rbacv1.ResourceAll || h == want || hasSub && h == "*/"+sub {
			return true
		}
	}
	return false
}

// EscalationMessage is Kubernetes' sentence for a write that would grant
// permissions its author does not hold.
func EscalationMessage(user string, groups []string, missing []rbacv1.PolicyRule) string {
	quoted := make([]string, len(groups))
	for i, g := range groups {
		quoted[i] = fmt.Sprintf("%q", g)
	}
	rules := make([]string, len(missing))
	for i, r := range missing {
		rules[i] = compact(r)
	}
	return fmt.Sprintf("user %q (groups=[%s]) is attempting to grant RBAC permissions not currently held:\n%s",
		user, strings.Join(quoted, " "), strings.Join(rules, "\n"))
}

func compact(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, list []string) {
		if len(list) == 0 {
			return
		}
		q := make([]string, len(list))
		for i, s := range list {
			q[i] = fmt.Sprintf("%q", s)
		}
		parts = append(parts, name+":["+strings.Join(q, ", ")+"]")
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("ResourceNames", r.ResourceNames)
	add("NonResourceURLs", r.NonResourceURLs)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
