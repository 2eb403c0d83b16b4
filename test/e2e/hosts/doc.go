// Package hosts builds network-namespace test hosts for tests that need
// real networking (root only): a switch namespace holding a bridge, and
// hosts whose eth0 is a veth into that bridge, with loopback up and no
// default route. The machine's root network namespace is never changed
// (only /run/netns gets the namespace files), and everything is removed in
// t.Cleanup, also when the test fails.
//
// A test that must run wholly inside a host (so every socket, route and
// child process it makes lives there) calls Host.RunTest: the test binary
// runs that one test again under nsenter, and the child sees Inside(t)
// report true.
package hosts
