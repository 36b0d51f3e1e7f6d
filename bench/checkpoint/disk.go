package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"
)

// diskSpeed writes n bytes in 1 MiB blocks to a file in dir and syncs it,
// then reads it back with O_DIRECT, and returns both speeds in bytes/s.
func diskSpeed(dir string, n int64) (w, r float64, err error) {
	const block = 1 << 20
	path := filepath.Join(dir, "disk-speed")
	defer os.Remove(path)
	// O_DIRECT wants an aligned buffer.
	raw := make([]byte, block+4096)
	off := int(4096 - uintptr(unsafe.Pointer(&raw[0]))%4096)
	buf := raw[off : off+block]
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	n = (n + block - 1) / block * block
	start := time.Now()
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	for k := int64(0); k < n; k += block {
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return 0, 0, err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, 0, err
	}
	f.Close()
	w = float64(n) / time.Since(start).Seconds()

	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("open with O_DIRECT: %w", err)
	}
	defer syscall.Close(fd)
	start = time.Now()
	var got int64
	for {
		k, err := syscall.Read(fd, buf)
		if err != nil {
			return 0, 0, err
		}
		if k == 0 {
			break
		}
		got += int64(k)
	}
	r = float64(got) / time.Since(start).Seconds()
	return w, r, nil
}
