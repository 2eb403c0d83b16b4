// Package benchclient builds client-go clientsets for load generation:
// no client-side rate limit, and a connection of their own each.
package benchclient
