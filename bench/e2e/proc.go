package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTicks = 100

// procStat is what the benchmark reads from /proc/<pid>/stat.
type procStat struct {
	PPID int
	CPU  float64 // utime + stime, seconds, of all the process's threads
}

// readStat reads /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so the fields are counted from its last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	ut, err2 := strconv.ParseUint(f[11], 10, 64)
	st, err3 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed ppid, utime or stime", pid)
	}
	return procStat{PPID: ppid, CPU: float64(ut+st) / clockTicks}, nil
}

// children returns the pids of the processes whose parent is pid, each with
// a name: the base name of its argv[0] (the plugin binary), made unique by
// a "#2" suffix when two children run the same binary.
func children(pid int) (map[int]string, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	seen := map[string]int{}
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(c)
		if err != nil || st.PPID != pid {
			continue // gone, or not a child
		}
		name := "pid " + e.Name()
		if cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); err == nil && len(cl) > 0 {
			name = filepath.Base(strings.SplitN(string(cl), "\x00", 2)[0])
		}
		name = strings.TrimPrefix(name, "ebmflow-plugin-")
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s#%d", name, seen[name])
		}
		out[c] = name
	}
	return out, nil
}

// snapshot is the CPU time of the host process and of its plugin children
// at one instant.
type snapshot struct {
	At    time.Time
	Host  float64
	Procs map[string]float64 // by child name
}

// take reads the CPU time of host and of the children kids (pid -> name).
// A child that has exited is left out.
func take(host int, kids map[int]string) (snapshot, error) {
	s := snapshot{At: time.Now(), Procs: map[string]float64{}}
	st, err := readStat(host)
	if err != nil {
		return s, fmt.Errorf("host process: %w", err)
	}
	s.Host = st.CPU
	for pid, name := range kids {
		if st, err := readStat(pid); err == nil {
			s.Procs[name] = st.CPU
		}
	}
	return s, nil
}

// cpuPercent returns, between snapshots a and b, the host's CPU use and
// each child's, as % of one core.
func cpuPercent(a, b snapshot) (host float64, procs map[string]float64) {
	dt := b.At.Sub(a.At).Seconds()
	procs = map[string]float64{}
	if dt <= 0 {
		return 0, procs
	}
	for name, cb := range b.Procs {
		if ca, ok := a.Procs[name]; ok {
			procs[name] = 100 * (cb - ca) / dt
		}
	}
	return 100 * (b.Host - a.Host) / dt, procs
}
