//go:build linux

package channel

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations on a word of a MAP_SHARED segment: without
// FUTEX_PRIVATE_FLAG, since the waiter and the waker are different
// processes.
const (
	futexWait = 0
	futexWake = 1
)

// wait sleeps while *w == v, at most d. Spurious and early returns are
// fine: callers re-check their condition.
func wait(w *atomic.Uint32, v uint32, d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWait, uintptr(v), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// wake wakes the waiters on w.
func wake(w *atomic.Uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, 1<<30, 0, 0, 0)
}

// yield gives the core to another runnable thread, if any (sched_yield).
func yield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
