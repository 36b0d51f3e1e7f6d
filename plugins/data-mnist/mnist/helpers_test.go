package mnist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// testCache is the cache folder shared by the tests that need the real MNIST
// files; they reach it through the same go-mod-download path as a user.
var testCache string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "ebmflow-mnist-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testCache = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// config builds a *sdk.Config from attribute values (JSON-encoded).
func config(seed uint64, attrs map[string]any) *sdk.Config {
	cfg := &sdk.Config{Stage: "data", Seed: seed, Values: map[string]json.RawMessage{}}
	for k, v := range attrs {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		cfg.Values[k] = b
	}
	return cfg
}

// configured returns a plugin configured with attrs, failing the test on any
// error diagnostic. MNIST stages use the shared test cache unless attrs say
// otherwise.
func configured(t testing.TB, seed uint64, attrs map[string]any) *Plugin {
	t.Helper()
	if _, ok := attrs["dir"]; !ok {
		if _, ok := attrs["cache_dir"]; !ok {
			attrs["cache_dir"] = testCache
		}
	}
	p := New()
	shapes, diags := p.Configure(context.Background(), config(seed, attrs))
	if diags.HasErrors() {
		t.Fatalf("configure %v: %v", attrs, diags.Err())
	}
	if shapes["sample"] == nil {
		t.Fatalf("configure %v: no sample shape", attrs)
	}
	return p
}

func next(t testing.TB, p *Plugin, req sdk.NextRequest) *sdk.Tensor {
	t.Helper()
	x, err := p.Next(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// needMNIST skips tests that read the real training files under -short.
func needMNIST(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("reads the real MNIST files; skipped under -short")
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
