//go:build linux

package channel

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Control messages on the link's socket (SOCK_SEQPACKET, one message per
// packet): the caller announces a lane with its memfd attached, the callee
// answers whether it mapped it.
const (
	msgLane  = "LANE" // + u32 lane id; one descriptor in SCM_RIGHTS
	msgOK    = "OK\x00\x00"
	msgError = "ERR\x00" // + u32 lane id + reason text
	ctlSize  = 8
)

// socketName returns a fresh abstract socket name ("@" is the leading NUL).
func socketName() string {
	var b [16]byte
	rand.Read(b[:])
	return "@ebmflow-" + hex.EncodeToString(b[:])
}

// peerPid returns the process id at the other end of a connected socket.
func peerPid(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	return int(cred.Pid), nil
}

func ctlMsg(kind string, id uint32, text string) []byte {
	b := make([]byte, ctlSize, ctlSize+len(text))
	copy(b, kind)
	binary.LittleEndian.PutUint32(b[4:], id)
	return append(b, text...)
}

// fdsOf returns the descriptors a control message carried.
func fdsOf(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if f, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, f...)
		}
	}
	return fds
}
