// Package testplugins holds small but real plugins of every kind, built from
// the sdk exactly as third-party plugins are, for the host's and the core's
// tests. One binary, ebmflow-plugin-testkit, serves the kind its file name
// asks for: copies named ebmflow-plugin-testenergy, -testsampler, -testdata
// and -testdiag serve those kinds.
//
// Every plugin accepts a `fail` attribute that makes it misbehave on purpose
// in one call: "panic", "exit" (os.Exit(7)), "kill" (SIGKILL to itself) or
// "hang" (block until killed), after `fail_after` successful calls of the
// method named by `fail_method`.
package testplugins
