// Package channel is the shared-memory call channel between two ebmflow
// processes: the host and a plugin, or two linked plugins (a sampler and the
// energy it calls at every Langevin step). docs/channel.md specifies the
// protocol for implementers in other languages; this is the Go side.
//
// The callee (the process that serves calls) listens on an abstract Unix
// socket whose random name the host hands to both sides, and accepts exactly
// one connection, from the process id it was told to expect (SO_PEERCRED).
// The caller creates each lane (a sealed memfd holding a request area, an
// answer area and their control words), passes its descriptor over the
// socket (SCM_RIGHTS), and both sides close the descriptor once mapped: the
// memory is then reachable only through the two mappings.
//
// A call writes the request into the lane's request area and bumps a
// sequence word; the callee, spinning briefly and then asleep on a futex of
// that word, reads it, runs it and answers the same way through the answer
// area. No gRPC call and no third process are involved. A message larger
// than an area travels as several parts, each acknowledged, so any size
// passes through bounded memory; every length read from the peer is checked
// against the area before use, and a tensor's storage grows only as its
// bytes arrive.
//
// Death and deadlines: each side reads the socket in a goroutine; when the
// peer process ends the kernel closes its end, and every waiter is woken
// with ErrPeerGone. A caller waits at most until its context's deadline.
package channel
