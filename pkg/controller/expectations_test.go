package controller

import (
	"testing"
	"time"
)

func TestExpectations(t *testing.T) {
	now := time.Unix(0, 0)
	e := NewExpectations[string](func() time.Time { return now })
	if !e.Satisfied("ns/rs") {
		t.Fatal("unknown key not satisfied")
	}
	e.Expect("ns/rs", 2, nil)
	e.CreationObserved("ns/rs")
	if e.Satisfied("ns/rs") {
		t.Fatal("satisfied with one creation outstanding")
	}
	e.CreationObserved("ns/rs")
	if !e.Satisfied("ns/rs") {
		t.Fatal("not satisfied after both creations")
	}
	e.Expect("ns/rs", 0, []string{"ns/a", "ns/b"})
	e.DeletionObserved("ns/rs", "ns/a")
	e.DeletionObserved("ns/rs", "ns/a") // terminating, then gone: counted once
	if e.Satisfied("ns/rs") {
		t.Fatal("satisfied with ns/b outstanding")
	}
	now = now.Add(ExpectationsTTL + time.Second)
	if !e.Satisfied("ns/rs") {
		t.Fatal("expired expectations still block")
	}
}
