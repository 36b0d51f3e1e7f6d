package mnist

import (
	"context"
	"fmt"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/idx"
)

// Native is the side of an MNIST image in pixels.
const Native = 28

// images is a loaded split after the digit filter and the subset: Count
// images of Native x Native bytes.
type images struct {
	Pixels []byte
	Labels []byte
	Count  int
	// File is the images file's path, for messages.
	File string
}

// image returns the bytes of image i.
func (im *images) image(i int) []byte {
	const n = Native * Native
	return im.Pixels[i*n : (i+1)*n]
}

// loadSplit reads, verifies and parses the split's image and label files,
// then keeps the images whose label is in digits (all when digits is empty),
// the first subset of them when subset > 0.
func loadSplit(ctx context.Context, src *source, split string, digits []int, subset int) (*images, error) {
	imName, lbName := TrainImages, TrainLabels
	if split == "test" {
		imName, lbName = TestImages, TestLabels
	}
	ib, ipath, err := src.read(ctx, imName)
	if err != nil {
		return nil, err
	}
	lb, lpath, err := src.read(ctx, lbName)
	if err != nil {
		return nil, err
	}
	im, err := idx.ParseImages(ipath, ib, idx.DefaultLimit)
	if err != nil {
		return nil, err
	}
	if im.Rows != Native || im.Cols != Native {
		return nil, fmt.Errorf("mnist: %s: images are %dx%d, want %dx%d", ipath, im.Rows, im.Cols, Native, Native)
	}
	lab, err := idx.ParseLabels(lpath, lb, 9, idx.DefaultLimit)
	if err != nil {
		return nil, err
	}
	if err := idx.CheckPair(im, lab); err != nil {
		return nil, err
	}
	out := &images{Pixels: im.Pixels, Labels: lab.Values, Count: im.Count, File: ipath}
	if len(digits) == 0 && (subset <= 0 || subset >= im.Count) {
		return out, nil
	}
	var keep [10]bool
	for _, d := range digits {
		keep[d] = true
	}
	sel := &images{File: ipath}
	for i, l := range lab.Values {
		if subset > 0 && sel.Count == subset {
			break
		}
		if len(digits) > 0 && !keep[l] {
			continue
		}
		sel.Pixels = append(sel.Pixels, im.Image(i)...)
		sel.Labels = append(sel.Labels, l)
		sel.Count++
	}
	if sel.Count == 0 {
		return nil, fmt.Errorf("mnist: %s: no image has a label in %v", ipath, digits)
	}
	return sel, nil
}
