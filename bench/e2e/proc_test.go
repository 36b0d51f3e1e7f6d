package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// startChild starts `sleep 30` as a child of the test process and stops it
// at the end of the test.
func startChild(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestReadStatAndChildren(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cmd := startChild(t)
	st, err := readStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID != os.Getpid() {
		t.Fatalf("ppid of the child = %d, want %d", st.PPID, os.Getpid())
	}
	kids, err := children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if kids[cmd.Process.Pid] != "sleep" {
		t.Fatalf("children = %v, want pid %d named sleep", kids, cmd.Process.Pid)
	}
	// Burn 300 ms of CPU (measured by the runtime's own clock, not the
	// wall: a loaded machine may give a wall-clock loop little of a core)
	// and see it counted in /proc.
	before, _ := readStat(os.Getpid())
	for start := cpuTime(); cpuTime()-start < 300*time.Millisecond; {
	}
	after, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.CPU-before.CPU < 0.2 {
		t.Fatalf("/proc counts %.3f s of CPU for 300 ms of busy loop", after.CPU-before.CPU)
	}
}

func TestCPUWindowMarkers(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cmd := startChild(t)
	w := &cpuWindow{host: os.Getpid(), last: 5}
	lines := []string{
		`{"level":"info","from":1,"to":5,"message":"training"}`,
		`not json`,
		`{"level":"info","t":1,"of":5,"message":"training"}`,
		`{"level":"info","t":3,"of":5,"message":"training"}`,
	}
	for _, l := range lines {
		w.line(l)
	}
	if w.err != nil || w.start == nil || w.end != nil {
		t.Fatalf("after t=1: start %v, end %v, err %v", w.start, w.end, w.err)
	}
	if _, ok := w.start.Procs["sleep"]; !ok || w.kids[cmd.Process.Pid] != "sleep" {
		t.Fatalf("the child was not found: %v", w.kids)
	}
	// Busy until this process has used 150 ms of CPU (not of wall time:
	// on a loaded machine a wall-clock loop may get little of a core).
	for start := cpuTime(); cpuTime()-start < 150*time.Millisecond; {
	}
	w.line(fmt.Sprintf(`{"level":"info","t":%d,"of":5,"message":"training"}`, 5))
	if w.err != nil || w.end == nil {
		t.Fatalf("after t=5: end %v, err %v", w.end, w.err)
	}
	host, procs := cpuPercent(*w.start, *w.end)
	if host < 2 || host > 400 {
		t.Fatalf("host CPU over a busy loop = %.1f%%", host)
	}
	if procs["sleep"] > 5 {
		t.Fatalf("sleep used %.1f%% CPU", procs["sleep"])
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
