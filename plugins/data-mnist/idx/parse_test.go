package idx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	raw := rawIDX(3, 4, 5)
	for _, tc := range []struct {
		name string
		b    []byte
	}{{"raw", raw}, {"gzip", gz(raw)}} {
		a, err := Parse(tc.name, tc.b, 3, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.Magic() != MagicImages || len(a.Dims) != 3 || a.Dims[0] != 3 || a.Dims[1] != 4 || a.Dims[2] != 5 {
			t.Fatalf("%s: magic %#x dims %v", tc.name, a.Magic(), a.Dims)
		}
		if len(a.Data) != 60 || a.Data[59] != 59 {
			t.Fatalf("%s: data %v", tc.name, a.Data)
		}
	}
}

func TestParsePair(t *testing.T) {
	im, err := ParseImages("img", gz(rawIDX(2, 3, 3)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if im.String() != "2 images of 3x3" || im.Image(1)[0] != 9 {
		t.Fatalf("got %v, image 1 starts with %d", im, im.Image(1)[0])
	}
	lb, err := ParseLabels("lab", rawIDX(2), 9, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPair(im, lb); err != nil {
		t.Fatal(err)
	}
}

// TestParseErrors checks that every kind of corruption gives an *Error naming
// the file, the offset and the problem.
func TestParseErrors(t *testing.T) {
	img := rawIDX(2, 3, 3) // 16-byte header + 18 data bytes
	badMagic := append([]byte(nil), img...)
	badMagic[3] = 1
	badType := append([]byte(nil), img...)
	badType[2] = 0x0d
	huge := append([]byte(nil), img...)
	huge[4], huge[5] = 0x7f, 0xff // 2147418114 images
	gzImg := gz(img)
	flipped := append([]byte(nil), gzImg...)
	flipped[len(flipped)-6] ^= 0xff // CRC-32 field of the trailer
	badHeader := append([]byte(nil), gzImg...)
	badHeader[2] = 7 // compression method must be 8 (deflate)
	for _, tc := range []struct {
		name string
		b    []byte
		dims int
		is   error
		want string
	}{
		{"empty", nil, 3, ErrTruncated, "idx: empty: byte 0: truncated: file too short for the 4-byte magic number"},
		{"short-header", img[:10], 3, ErrTruncated, "idx: short-header: byte 10: truncated: file too short for the 3 dimension sizes"},
		{"truncated", img[:30], 3, ErrTruncated, "idx: truncated: byte 30: truncated: header declares 18 data bytes after byte 16, file holds 14"},
		{"trailing", cat(img, []byte{1, 2}), 3, ErrSize, "idx: trailing: byte 34: size disagrees with header: 2 bytes after the 18 data bytes the header declares"},
		{"labels-as-images", rawIDX(4), 3, ErrMagic, "idx: labels-as-images: byte 0: wrong magic number: 0x00000801, want 0x00000803"},
		{"bad-magic", badMagic, 3, ErrMagic, "idx: bad-magic: byte 0: wrong magic number: 0x00000801, want 0x00000803"},
		{"bad-type", badType, 3, ErrMagic, "idx: bad-type: byte 0: wrong magic number: 0x00000d03 is not an unsigned-byte IDX magic number (0x000008dd)"},
		{"huge-raw", huge, 3, ErrSize, "idx: huge-raw: byte 4: size disagrees with header: dimensions [2147418114] claim at least 2147418114 data bytes, the size limit allows at most 268435440"},
		{"big-raw", huge[:20], 1, ErrMagic, "idx: big-raw: byte 0: wrong magic number: 0x00000803, want 0x00000801"},
		{"huge-gzip", gz(huge), 3, ErrSize, "idx: huge-gzip: byte 4: size disagrees with header: dimensions [2147418114] claim at least 2147418114 data bytes, the compressed file can hold at most"},
		{"gzip-truncated", gzImg[:len(gzImg)-12], 3, ErrTruncated, "idx: gzip-truncated: gzip byte " + itoa(len(gzImg)-12) + ": truncated: gzip stream ends early"},
		{"gzip-checksum", flipped, 3, ErrGzip, "idx: gzip-checksum: gzip byte " + itoa(len(flipped)) + ": corrupt gzip stream: gzip: invalid checksum"},
		{"gzip-header", badHeader, 3, ErrGzip, "idx: gzip-header: gzip byte 10: corrupt gzip stream: gzip: invalid header"},
		{"gzip-trailing", gz(cat(img, []byte{9})), 3, ErrSize, "idx: gzip-trailing: byte 34: size disagrees with header: data continues after the 18 bytes the header declares"},
	} {
		_, err := Parse(tc.name, tc.b, tc.dims, 0)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, tc.is) || e.File != tc.name {
			t.Errorf("%s: error %v (%T) is not an *Error wrapping %v", tc.name, err, err, tc.is)
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, err, tc.want)
		}
	}
}

func TestParseLimit(t *testing.T) {
	img := gz(rawIDX(10, 10, 10)) // 1000 data bytes
	_, err := Parse("f", img, 3, 500)
	if !errors.Is(err, ErrSize) || !strings.Contains(err.Error(), "byte 12") {
		t.Fatalf("got %v, want a size error at byte 12", err)
	}
}

func TestLabelChecks(t *testing.T) {
	lab := rawIDX(20) // values 0..19
	_, err := ParseLabels("lab", lab, 9, 0)
	if want := "idx: lab: byte 18: value out of range: label 10 of image 10 exceeds 9"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	im, _ := ParseImages("img", rawIDX(3, 2, 2), 0)
	lb, _ := ParseLabels("lab", rawIDX(4), 9, 0)
	err = CheckPair(im, lb)
	if want := "idx: lab: byte 4: image and label files disagree: 4 labels for the 3 images of img"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.gz")
	if err := os.WriteFile(p, gz(rawIDX(5)), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := ReadFile(p, 1, 0)
	if err != nil || len(a.Data) != 5 || a.File != p {
		t.Fatalf("got %v, %v", a, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 1, 0); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: got %v", err)
	}
	if _, err := ReadFile(p, 1, 10); !errors.Is(err, ErrSize) {
		t.Fatalf("over the limit: got %v", err)
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
