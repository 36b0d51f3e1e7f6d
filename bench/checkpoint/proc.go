package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// peaks maps a process (host, or a plugin's name) to its peak RSS in bytes.
type peaks map[string]int64

// vmHWM reads a process's peak resident set in bytes.
func vmHWM(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err == nil
			}
		}
	}
	return 0, false
}

// children returns the pids of pid's children by their binaries' names
// without the "ebmflow-plugin-" prefix.
func children(pid int) map[int]string {
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		name := "pid " + e.Name()
		if cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); err == nil && len(cl) > 0 {
			name = filepath.Base(strings.SplitN(string(cl), "\x00", 2)[0])
		}
		out[c] = strings.TrimPrefix(name, "ebmflow-plugin-")
	}
	return out
}

// watch runs bin with args, reading the peak RSS of it and of its
// children every 10 ms, and returns its log (stderr and stdout).
func watch(bin string, args ...string) (string, peaks, error) {
	var log bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pk := peaks{}
	names := map[int]string{}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			return log.String(), pk, err
		case <-tick.C:
		}
		if i%10 == 0 {
			for pid, name := range children(cmd.Process.Pid) {
				names[pid] = name
			}
		}
		if v, ok := vmHWM(cmd.Process.Pid); ok {
			pk["host"] = max(pk["host"], v)
		}
		for pid, name := range names {
			if v, ok := vmHWM(pid); ok {
				pk[name] = max(pk[name], v)
			}
		}
	}
}

// logSeconds returns the "seconds" of the JSON log line with message msg.
func logSeconds(log, msg string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Message string   `json:"message"`
			Seconds *float64 `json:"seconds"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == msg && l.Seconds != nil {
			return *l.Seconds, nil
		}
	}
	return 0, fmt.Errorf("no %q line with seconds in the log", msg)
}
