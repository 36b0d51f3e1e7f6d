package sdk

import (
	"encoding/json"
	"math"
	"testing"
)

func TestBounds(t *testing.T) {
	cases := []struct {
		b    Bounds
		text string
		ok   []float64
		bad  map[float64]string
	}{
		{AtLeast(1).AtMost(1e6), "[1, 1000000]", []float64{1, 500, 1e6},
			map[float64]string{0: "is below the minimum 1", 1e12: "is above the maximum 1000000", math.NaN(): "is not a number"}},
		{Above(0), "(0, inf)", []float64{1e-300, 1e300},
			map[float64]string{0: "is not above the minimum 0", -1: "is not above the minimum 0"}},
		{AtLeast(0).Below(1), "[0, 1)", []float64{0, 0.999},
			map[float64]string{1: "is not below the maximum 1"}},
		{Between(-1, 1e8), "[-1, 1e+08]", []float64{-1, 1e8}, map[float64]string{-2: "is below the minimum -1"}},
		{Bounds{}, "", []float64{-1e300, 0, 1e300}, nil},
	}
	for _, c := range cases {
		if got := c.b.String(); got != c.text {
			t.Errorf("String() = %q, want %q", got, c.text)
		}
		for _, v := range c.ok {
			if err := c.b.Check(v); err != nil {
				t.Errorf("%s: Check(%v) = %v", c.text, v, err)
			}
		}
		for v, want := range c.bad {
			if err := c.b.Check(v); err == nil || err.Error() != want {
				t.Errorf("%s: Check(%v) = %v, want %q", c.text, v, err, want)
			}
		}
	}
}

func TestBoundsJSON(t *testing.T) {
	a := Attribute{Name: "steps", Type: TypeInt, Doc: "d", Bounds: AtLeast(1).Below(10)}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"steps","type":"int","doc":"d","min":1,"max":10,"max_exclusive":true}`; string(b) != want {
		t.Fatalf("json %s, want %s", b, want)
	}
	var back Attribute
	if err := json.Unmarshal(b, &back); err != nil || back.Bounds.String() != "[1, 10)" {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	b, _ = json.Marshal(Attribute{Name: "x", Type: TypeNumber, Doc: "d"})
	if want := `{"name":"x","type":"number","doc":"d"}`; string(b) != want {
		t.Fatalf("unbounded json %s, want %s", b, want)
	}
}

func TestFormatNumber(t *testing.T) {
	for v, want := range map[float64]string{1e12: "1e+12", 1000000: "1000000", 0.015: "0.015", 1e7: "1e+07", -3: "-3", 1.5e-8: "1.5e-08"} {
		if got := FormatNumber(v); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", v, got, want)
		}
	}
}
