package channel

import (
	"testing"
	"time"
)

// TestPace checks the waiter's policy: short waits are spun for without
// system calls, one long wait among them does not change that, waits that
// outlast the spin send the waiter to sleep at once, and waits between the
// busy cap and the spin yield the core while spinning.
func TestPace(t *testing.T) {
	const most = 100 * time.Microsecond
	us := time.Microsecond
	var p pace
	for range 50 {
		p.saw(20*us, most)
	}
	if busy, spin := p.window(most); busy < 44*us || busy > 45*us || spin != most {
		t.Errorf("20 µs waits: busy %v, spin %v; want about 45µs, 100µs", busy, spin)
	}
	p.saw(50*time.Millisecond, most) // the host's update between two samples
	if busy, _ := p.window(most); busy < 40*us {
		t.Errorf("one long wait among short ones cut the busy spin to %v", busy)
	}
	for range 50 {
		p.saw(400*us, most) // a ConvNet's gradient
	}
	if busy, spin := p.window(most); busy != minSpin || spin != minSpin {
		t.Errorf("400 µs waits: busy %v, spin %v; want %v for both", busy, spin, minSpin)
	}
	for range 50 {
		p.saw(70*us, most) // a loaded machine
	}
	if busy, spin := p.window(most); busy != minSpin || spin != most {
		t.Errorf("70 µs waits: busy %v, spin %v; want %v, %v", busy, spin, minSpin, most)
	}
	var none *pace
	if busy, spin := none.window(most); busy != 10*us || spin != most {
		t.Errorf("no pace: busy %v, spin %v", busy, spin)
	}
	if busy, spin := p.window(0); busy != 0 || spin != 0 {
		t.Errorf("no spin: busy %v, spin %v", busy, spin)
	}
}
