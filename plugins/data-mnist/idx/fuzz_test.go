package idx

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes, raw and as a gzip stream, to Parse: it
// must return an *Error naming the file or a consistent array, never panic,
// and never hold more data than the input can justify.
func FuzzParse(f *testing.F) {
	img := rawIDX(2, 3, 3)
	lab := rawIDX(2)
	f.Add(img)
	f.Add(lab)
	f.Add(gz(img))
	f.Add(gz(lab))
	f.Add(img[:20])
	f.Add(gz(img)[:25])
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add(gz([]byte{0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3})
	f.Add([]byte{1, 2, 3, 4, 5})
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dims := range []int{0, 1, 3} {
			a, err := Parse("fuzz", b, dims, limit)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.File != "fuzz" || e.Offset < 0 {
					t.Fatalf("error %v (%T) does not name the file and offset", err, err)
				}
				continue
			}
			if dims > 0 && len(a.Dims) != dims {
				t.Fatalf("asked for %d dimensions, got %v", dims, a.Dims)
			}
			n := int64(1)
			for _, d := range a.Dims {
				n *= int64(d)
			}
			if int64(len(a.Data)) != n {
				t.Fatalf("dims %v but %d data bytes", a.Dims, len(a.Data))
			}
			if n > limit || n > int64(len(b))*maxDeflateRatio {
				t.Fatalf("%d data bytes from a %d-byte input", n, len(b))
			}
		}
	})
}
