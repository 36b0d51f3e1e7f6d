package mnist

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ebmflow/ebmflow/sdk"
)

// params is a decoded, validated stage block.
type params struct {
	Dataset   string
	Dir       string
	CacheDir  string
	Split     string
	Size      int
	Resize    string
	Digits    []int
	Subset    int
	DataNoise float64
	Sampling  string
	BatchSize int
	DType     sdk.DType
}

// maxBatch bounds the samples of one Next call (the whole training set fits).
const maxBatch = 1 << 17

// decodeParams decodes cfg.Values against the schema: absent attributes take
// their defaults, and each problem is a diagnostic whose Path names the
// attribute.
func decodeParams(schema sdk.Schema, cfg *sdk.Config) (params, sdk.Problems) {
	var diags sdk.Problems
	bad := map[string]bool{} // attributes that failed to decode
	for name := range cfg.Values {
		if _, ok := schema.Lookup(name); !ok {
			diags.Errorf([]string{name}, "unsupported attribute", "data-mnist has no attribute %q", name)
		}
	}
	raw := func(name string) json.RawMessage {
		if cfg.Has(name) {
			return cfg.Values[name]
		}
		a, _ := schema.Lookup(name)
		b, _ := json.Marshal(a.Default)
		return b
	}
	str := func(name string) string {
		var s string
		if err := json.Unmarshal(raw(name), &s); err != nil {
			diags.Errorf([]string{name}, "invalid "+name, "want a string: %v", err)
			bad[name] = true
			return ""
		}
		if a, _ := schema.Lookup(name); len(a.Enum) > 0 && !slices.Contains(a.Enum, s) {
			diags.Errorf([]string{name}, "invalid "+name, "%s must be one of %s, got %q", name, strings.Join(a.Enum, ", "), s)
		}
		return s
	}
	num := func(name string) float64 {
		var f float64
		if err := json.Unmarshal(raw(name), &f); err != nil {
			diags.Errorf([]string{name}, "invalid "+name, "want a number: %v", err)
			bad[name] = true
		}
		return f
	}
	whole := func(name string) int {
		f := num(name)
		if !bad[name] && (f != math.Trunc(f) || math.Abs(f) > 1<<31) {
			bad[name] = true
			diags.Errorf([]string{name}, "invalid "+name, "%s must be a whole number, got %v", name, f)
			return 0
		}
		return int(f)
	}
	p := params{
		Dataset:   str("dataset"),
		Dir:       str("dir"),
		CacheDir:  str("cache_dir"),
		Split:     str("split"),
		Size:      whole("size"),
		Resize:    str("resize"),
		Subset:    whole("subset"),
		DataNoise: num("data_noise"),
		Sampling:  str("sampling"),
		BatchSize: whole("batch_size"),
		DType:     sdk.Float32,
	}
	if str("dtype") == "float64" {
		p.DType = sdk.Float64
	}
	var digits []float64
	if err := json.Unmarshal(raw("digits"), &digits); err != nil {
		diags.Errorf([]string{"digits"}, "invalid digits", "want a list of digits: %v", err)
	}
	seen := map[int]bool{}
	for i, d := range digits {
		if d != math.Trunc(d) || d < 0 || d > 9 {
			diags.Errorf([]string{"digits", fmt.Sprint(i)}, "invalid digit", "digits must be whole numbers 0 to 9, got %v", d)
			continue
		}
		if seen[int(d)] {
			diags.Errorf([]string{"digits", fmt.Sprint(i)}, "duplicate digit", "digit %v is listed twice", d)
			continue
		}
		seen[int(d)] = true
		p.Digits = append(p.Digits, int(d))
	}
	if p.Size != 28 && p.Size != 32 && p.Size != 64 && !bad["size"] {
		diags.Errorf([]string{"size"}, "invalid size", "size must be 28 (native), 32 or 64, got %d", p.Size)
	}
	if p.Subset < 0 && !bad["subset"] {
		diags.Errorf([]string{"subset"}, "invalid subset", "subset must be 0 (all) or positive, got %d", p.Subset)
	}
	if (!(p.DataNoise >= 0) || math.IsInf(p.DataNoise, 0)) && !bad["data_noise"] {
		diags.Errorf([]string{"data_noise"}, "invalid data_noise", "data_noise must be a finite number >= 0, got %v", p.DataNoise)
	}
	if (p.BatchSize < 1 || p.BatchSize > maxBatch) && !bad["batch_size"] {
		diags.Errorf([]string{"batch_size"}, "invalid batch_size", "batch_size must lie in [1, %d], got %d", maxBatch, p.BatchSize)
	}
	return p, diags
}

// sampleShape returns the per-sample shape: [2] for a toy set, [1, S, S]
// for MNIST.
func (p params) sampleShape() []int {
	if p.toy() {
		return []int{2}
	}
	return []int{1, p.Size, p.Size}
}

func (p params) toy() bool {
	switch p.Dataset {
	case DatasetGMM, DatasetRings, DatasetPoints, DatasetSegment:
		return true
	}
	return false
}

// fingerprint names what a saved state depends on: the data set, its
// selection and the draw order.
func (p params) fingerprint() string {
	if p.toy() {
		return p.Dataset
	}
	return fmt.Sprintf("mnist split=%s digits=%v subset=%d sampling=%s", p.Split, p.Digits, p.Subset, p.Sampling)
}
