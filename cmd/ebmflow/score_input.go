package main

import (
	"errors"
	"fmt"
	"io"

	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/idx"
	"github.com/ebmflow/ebmflow/plugins/data-mnist/mnist"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
)

// readInput reads inputs for an energy whose per-sample input shape is want
// ([c, s, s] for images, [d] for vectors).
func readInput(path string, want []int) (*sdk.Tensor, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case ext == ".safetensors":
		tensors, _, err := safetensors.ReadFile(path)
		if err != nil {
			return nil, err
		}
		x, ok := tensors["x"]
		if !ok && len(tensors) == 1 {
			for _, t := range tensors {
				x = t
			}
		}
		if x == nil {
			return nil, fmt.Errorf("no tensor named \"x\" among %d tensors", len(tensors))
		}
		if !slices.Equal(x.SampleShape(), want) {
			return nil, fmt.Errorf("%w: expected inputs of shape [n %s], received %s", sdk.ErrShape, strings.Trim(sdk.FormatShape(want), "[]"), sdk.FormatShape(x.Shape))
		}
		return x, nil
	case ext == ".png":
		return readPNG(path, want)
	default: // IDX, raw or gzipped
		a, err := idx.ReadFile(path, 3, 0)
		if err != nil {
			return nil, err
		}
		n, h, w := a.Dims[0], a.Dims[1], a.Dims[2]
		pix := make([]float64, len(a.Data))
		for i, b := range a.Data {
			pix[i] = float64(b)/255*2 - 1
		}
		return imagesToTensor(pix, n, 1, h, w, want)
	}
}

func readPNG(path string, want []int) (*sdk.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		var size int64
		if fi, serr := f.Stat(); serr == nil {
			size = fi.Size()
		}
		return nil, fmt.Errorf("png: %s: the image ends early (%d bytes): a truncated file", path, size)
	}
	if err != nil {
		return nil, fmt.Errorf("png: %s: %w", path, err)
	}
	if len(want) != 3 {
		return nil, fmt.Errorf("the energy takes inputs of shape %s, not images", sdk.FormatShape(want))
	}
	c := want[0]
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	pix := make([]float64, c*h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			if c == 1 {
				grey := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 65535
				pix[y*w+x] = grey*2 - 1
				continue
			}
			for k, v := range []uint32{r, g, bl} {
				pix[k*h*w+y*w+x] = float64(v)/65535*2 - 1
			}
		}
	}
	return imagesToTensor(pix, 1, c, h, w, want)
}

// imagesToTensor resizes n images of c x h x w (bilinearly, as
// torchvision's Resize) to the energy's input size.
func imagesToTensor(pix []float64, n, c, h, w int, want []int) (*sdk.Tensor, error) {
	if len(want) != 3 || want[0] != c {
		return nil, fmt.Errorf("%w: images of %d channel(s) for an energy taking %s", sdk.ErrShape, c, sdk.FormatShape(want))
	}
	oh, ow := want[1], want[2]
	x := sdk.NewTensor(sdk.Float32, n, c, oh, ow)
	buf := make([]float64, oh*ow)
	for i := 0; i < n*c; i++ {
		src := pix[i*h*w : (i+1)*h*w]
		out := src
		if oh != h || ow != w {
			out = mnist.Bilinear(buf, oh, ow, src, h, w)
		}
		for j, v := range out {
			x.F32[i*oh*ow+j] = float32(v)
		}
	}
	return x, nil
}
