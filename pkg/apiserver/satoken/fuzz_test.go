package satoken

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: any bearer token a client sends is refused or accepted
// without a panic, and only the header and claims this signer signed are
// accepted.
func FuzzVerify(f *testing.F) {
	key := newSignerForFuzz(f)
	now := time.Now()
	good, err := key.Sign(claimsAt(now))
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, seed := range []string{good, "", "a.b.c", parts[0] + "." + parts[1] + ".", parts[0] + ".e30." + parts[2],
		"eyJhbGciOiJub25lIn0.e30.", strings.Repeat(".", 10), good + "x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := key.Verify(token, now)
		if err != nil {
			if c != nil {
				t.Fatalf("claims %+v with error %v", c, err)
			}
			if strings.Count(token, ".") != 2 && !errors.Is(err, ErrNotJWT) {
				t.Fatalf("token with %d dots: %v, want ErrNotJWT", strings.Count(token, "."), err)
			}
			return
		}
		if !strings.HasPrefix(token, parts[0]+"."+parts[1]+".") {
			t.Fatalf("accepted a header and claims it did not sign: %q", token)
		}
	})
}
