package rpc

import (
	"reflect"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestSchemaBoundsRoundTrip checks that bounds survive the Schema call's
// conversion, unbounded sides staying unset.
func TestSchemaBoundsRoundTrip(t *testing.T) {
	in := sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "steps", Type: sdk.TypeInt, Default: 10.0, Doc: "d", Bounds: sdk.AtLeast(1).AtMost(1e6)},
		{Name: "eps", Type: sdk.TypeNumber, Required: true, Doc: "d", Bounds: sdk.Above(0)},
		{Name: "p", Type: sdk.TypeNumber, Doc: "d", Bounds: sdk.AtLeast(0).Below(1)},
		{Name: "s", Type: sdk.TypeString, Doc: "d"},
	}}
	pb, err := schemaToPB(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := schemaFromPB(pb)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n in  %+v\n out %+v", in, out)
	}
}

// TestBuildConfigGuard checks the plugin side's own check of numbers:
// whole ints and bounds, for plain numbers and list elements.
func TestBuildConfigGuard(t *testing.T) {
	schema := sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "steps", Type: sdk.TypeInt, Default: 10.0, Doc: "d", Bounds: sdk.AtLeast(1).AtMost(1e6)},
		{Name: "band", Type: sdk.TypeListNumber, Doc: "d", Bounds: sdk.Between(0, 1)},
		{Name: "n", Type: sdk.TypeInt, Doc: "d"},
	}}
	for values, want := range map[string]string{
		`{"steps": 1e12}`:          "steps = 1e+12 is above the maximum 1000000 (range [1, 1000000])",
		`{"band": [0.5, 2]}`:       "band = 2 is above the maximum 1 (range [0, 1])",
		`{"n": 2.5}`:               "n = 2.5 is not a whole number of magnitude at most 2^53",
		`{"n": 1e300}`:             "n = 1e+300 is not a whole number of magnitude at most 2^53",
		`{"steps": "x"}`:           `steps is not a number: "x"`,
		`{"steps": 1000000}`:       "",
		`{"band": [0, 1]}`:         "",
		`{"n": -9007199254740992}`: "",
	} {
		_, diags := BuildConfig(schema, "s", 1, "", []byte(values), nil)
		got := ""
		if len(diags) > 0 {
			got = diags[0].Detail
		}
		if len(diags) > 1 || got != want {
			t.Errorf("%s: %v, want %q", values, diags, want)
		}
	}
}
