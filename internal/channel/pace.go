package channel

import "time"

// pace learns how long one side's waits on one pipe last, so that a waiter
// spins only when the wait is likely to end within the spin: a toy
// Langevin step's gradient (tens of µs) is waited for spinning, with no
// system call on either side, while a ConvNet's (hundreds of µs) is waited
// for asleep at once, leaving the core to the callee's compute.
//
// It keeps an exponentially weighted mean of the last waits, each counted as
// at most twice the spin: a single long wait (the host's update between two
// samples) moves the mean by a bounded amount, and waits that outlast the
// spin keep it above the spin. A lane's side is used by one goroutine at a
// time; pace needs no lock.
type pace struct {
	mean time.Duration
}

// minSpin is the spin of a waiter whose waits outlast the spin: long enough
// for an answer that is already being written, far shorter than a sleep.
const minSpin = 2 * time.Microsecond

// busyCap bounds the part of a spin that makes no system call. Past it, a
// waiter yields its core at every turn (sched_yield), so that a peer that
// shares the core (more runnable threads than cores) gets to run; a waiter
// whose waits usually outlast it (a loaded machine) yields at once.
const busyCap = 50 * time.Microsecond

// window returns how long to spin without a system call (busy) and how
// long to spin in all before sleeping (spin >= busy), for a maximum spin
// of most (zero: never spin).
func (p *pace) window(most time.Duration) (busy, spin time.Duration) {
	switch {
	case most <= 0:
		return 0, 0
	case p == nil:
		return min(10*time.Microsecond, most), most
	case p.mean > most:
		// Waits outlast the spin (a ConvNet's gradient): sleep at once,
		// leaving the core to the peer's compute.
		return min(minSpin, most), min(minSpin, most)
	case p.mean > busyCap:
		return min(minSpin, most), most
	}
	return min(2*p.mean+5*time.Microsecond, busyCap, most), most
}

// saw counts a wait of d for a maximum spin of most.
func (p *pace) saw(d, most time.Duration) {
	if p == nil {
		return
	}
	d = min(d, 2*most)
	p.mean += (d - p.mean) / 8
}
