package runner

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcessIdentity returns the machine's boot id and the start time of
// process pid in clock ticks after boot, read from /proc; together with the
// pid they name one process for as long as the machine runs. Both are zero
// where /proc does not tell (another system, a process gone).
func ProcessIdentity(pid int) (boot string, startTicks uint64) {
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		boot = strings.TrimSpace(string(b))
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return boot, 0
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return boot, 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); field 22 (starttime) is f[19].
	if len(f) < 20 || f[0] == "Z" {
		return boot, 0
	}
	startTicks, _ = strconv.ParseUint(f[19], 10, 64)
	return boot, startTicks
}

// Alive tells whether the process a running status names still runs:
// known is false when it cannot be told from this machine (another host,
// or no /proc), and then alive is false.
func (s *Status) Alive() (alive, known bool) {
	if s.PID <= 0 {
		return false, false
	}
	if h, _ := os.Hostname(); h != s.Host {
		return false, false
	}
	boot, ticks := ProcessIdentity(s.PID)
	if boot == "" {
		return false, false
	}
	if s.Boot != "" && boot != s.Boot {
		return false, true // the machine rebooted since
	}
	return ticks != 0 && (s.StartTicks == 0 || ticks == s.StartTicks), true
}
