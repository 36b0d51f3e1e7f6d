package grid

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"syscall"
)

// writePNG encodes img as a PNG at dst atomically: into a temporary file in
// the same folder, synced, closed and renamed over dst; then the folder is
// synced.
func writePNG(dst string, img image.Image) (err error) {
	dir, base := filepath.Split(dst)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("grid: write %s: %w", dst, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriter(f)
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err = enc.Encode(bw, img); err != nil {
		return fmt.Errorf("grid: write %s: %w", dst, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("grid: write %s: %w", dst, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("grid: write %s: %w", dst, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("grid: write %s: sync: %w", dst, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("grid: write %s: close: %w", dst, err)
	}
	if err = os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("grid: write %s: %w", dst, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("grid: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("grid: sync %s: %w", dir, err)
	}
	return nil
}
