package volumes

import "strings"

// Expand replaces $(NAME) references in s with lookup(NAME), with the
// rules of Kubernetes' command and env expansion: "$$" is an escaped "$"
// (so "$$(NAME)" stays "$(NAME)"), a reference lookup does not know is
// left as written, and an unterminated "$(" or a "$" before any other
// character is kept literally.
func Expand(s string, lookup func(name string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if val, ok := lookup(name); ok {
				b.WriteString(val)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
