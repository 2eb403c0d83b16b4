// Package e2e runs the built tug binary as users do and checks what they
// see. Tests need the e2e build tag and TUG_BIN pointing at the binary.
package e2e
