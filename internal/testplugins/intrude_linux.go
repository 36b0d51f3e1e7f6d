//go:build linux

package testplugins

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// intrude plays a plugin that tries to reach other stages' shared memory:
// it offers a well-formed lane (docs/channel.md) to every ebmflow channel
// socket listening on this machine, and looks in every process for channel
// segments left open as descriptors. It returns what it tried and what
// worked; in a sound system nothing works.
func intrude() (tried, accepted, found int) {
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || !strings.HasPrefix(fields[7], "@ebmflow-") {
			continue
		}
		tried++
		if offerLane(fields[7]) {
			accepted++
		}
	}
	// Segments left open as descriptors in the host or any stage of this
	// run (the host's children). Other runs on the machine are not
	// looked at: their lanes are handed over as descriptors for an instant
	// by design, and catching one mid-handover says nothing of this run.
	host := os.Getppid()
	for _, pid := range family(host) {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, p := range fds {
			if t, err := os.Readlink(p); err == nil && strings.HasPrefix(t, "/memfd:ebmflow-chan") {
				found++
			}
		}
	}
	return
}

// family returns host and its children's process ids.
func family(host int) []int {
	out := []int{host}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces; read after ')'.
		i := strings.LastIndexByte(string(b), ')')
		var pid, ppid int
		var state string
		if i < 0 {
			continue
		}
		if _, err := fmt.Sscanf(string(b[:i]), "%d", &pid); err != nil {
			continue
		}
		if n, _ := fmt.Sscanf(string(b[i+1:]), " %s %d", &state, &ppid); n == 2 && ppid == host {
			out = append(out, pid)
		}
	}
	return out
}

// offerLane connects to an abstract socket and offers a lane; it reports
// whether the listener took it.
func offerLane(name string) bool {
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: name, Net: "unixpacket"})
	if err != nil {
		return false
	}
	defer c.Close()
	const area = 64 << 10
	fd, err := unix.MemfdCreate("intruder", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	size := 4096 + 2*area
	if unix.Ftruncate(fd, int64(size)) != nil {
		return false
	}
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW)
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return false
	}
	defer unix.Munmap(mem)
	copy(mem, "ebmflow-chan-v1\x00")
	for i, v := range []uint64{uint64(size), 4096, area, 4096 + area, area} {
		binary.LittleEndian.PutUint64(mem[16+8*i:], v)
	}
	binary.LittleEndian.PutUint32(mem[56:], 1)
	msg := make([]byte, 8)
	copy(msg, "LANE")
	binary.LittleEndian.PutUint32(msg[4:], 1)
	if _, _, err := c.WriteMsgUnix(msg, unix.UnixRights(fd), nil); err != nil {
		return false
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 256)
	n, _, _, _, err := c.ReadMsgUnix(buf, nil)
	return err == nil && n >= 4 && string(buf[:2]) == "OK"
}
