package idx

import "fmt"

// Images is an MNIST image file: Count images of Rows x Cols unsigned bytes,
// row-major, one image after another.
type Images struct {
	File              string
	Count, Rows, Cols int
	Pixels            []byte
}

// Labels is an MNIST label file: one unsigned byte per image.
type Labels struct {
	File   string
	Values []byte
}

// ParseImages parses an image file (magic 0x00000803), raw or gzipped.
func ParseImages(name string, b []byte, limit int64) (*Images, error) {
	a, err := Parse(name, b, 3, limit)
	if err != nil {
		return nil, err
	}
	return &Images{File: name, Count: a.Dims[0], Rows: a.Dims[1], Cols: a.Dims[2], Pixels: a.Data}, nil
}

// ParseLabels parses a label file (magic 0x00000801), raw or gzipped, and
// checks that every label is at most maxLabel.
func ParseLabels(name string, b []byte, maxLabel byte, limit int64) (*Labels, error) {
	a, err := Parse(name, b, 1, limit)
	if err != nil {
		return nil, err
	}
	for i, v := range a.Data {
		if v > maxLabel {
			return nil, errorf(name, a.HeaderLen()+int64(i), ErrRange, "label %d of image %d exceeds %d", v, i, maxLabel)
		}
	}
	return &Labels{File: name, Values: a.Data}, nil
}

// Image returns the pixels of image i.
func (im *Images) Image(i int) []byte {
	n := im.Rows * im.Cols
	return im.Pixels[i*n : (i+1)*n]
}

// CheckPair checks that the label file has one label per image. The error
// points at the label file's count field (byte 4).
func CheckPair(im *Images, lb *Labels) error {
	if len(lb.Values) != im.Count {
		return errorf(lb.File, 4, ErrMismatch, "%d labels for the %d images of %s", len(lb.Values), im.Count, im.File)
	}
	return nil
}

// String describes the image file, e.g. "60000 images of 28x28".
func (im *Images) String() string {
	return fmt.Sprintf("%d images of %dx%d", im.Count, im.Rows, im.Cols)
}
