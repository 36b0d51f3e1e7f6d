package plugins_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sched is what the kernel's scheduler has counted for a set of processes:
// time on a CPU and time runnable but waiting for one, summed over all
// their threads (/proc/PID/task/TID/schedstat, nanoseconds).
type sched struct{ run, wait time.Duration }

func (s sched) sub(o sched) sched { return sched{s.run - o.run, s.wait - o.wait} }

// schedOf sums the schedstat of every thread of the given processes. A
// thread that ended since an earlier reading takes its time with it, which
// the Go runtime, keeping its threads, rarely does.
func schedOf(pids ...int) (sched, error) {
	var s sched
	for _, pid := range pids {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		if err != nil || len(tasks) == 0 {
			return s, fmt.Errorf("schedstat of %d: no threads (%v)", pid, err)
		}
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue // the thread ended
			}
			f := strings.Fields(string(b))
			if len(f) < 2 {
				return s, fmt.Errorf("%s: %q", t, b)
			}
			run, err1 := strconv.ParseInt(f[0], 10, 64)
			wait, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				return s, fmt.Errorf("%s: %q", t, b)
			}
			s.run += time.Duration(run)
			s.wait += time.Duration(wait)
		}
	}
	return s, nil
}

// cpuTime is this process's CPU time, user and system (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
