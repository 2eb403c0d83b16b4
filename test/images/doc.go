// Package images builds the container images tests and examples run,
// from local files only (no registry is needed): busybox from the host's
// static busybox binary, and small Go programs from this directory (web,
// memhog). They are written as one docker-format archive that
// `tug image import` or containerd's client loads.
package images
