package plugintest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

// buildRaw builds a testdata program that is not a well-behaved plugin (so
// Build, which runs describe, cannot be used) as ebmflow-plugin-name.
func buildRaw(t *testing.T, pkg, name string) host.Binary {
	t.Helper()
	path := filepath.Join(t.TempDir(), host.BinaryPrefix+name)
	if out, err := exec.Command("go", "build", "-o", path, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return host.Binary{Name: name, Path: path}
}

// TestHostRefusesOlderProtocol starts a plugin that offers only plugin
// protocol 0 through the host: the start is refused with a message naming
// the plugin, the protocol it speaks and the one ebmflow speaks.
func TestHostRefusesOlderProtocol(t *testing.T) {
	bin := buildRaw(t, "./testdata/oldprotocol", "oldprotocol")
	h := host.New(host.Options{Logger: zerolog.Nop()})
	defer h.Close()
	_, err := h.Start(context.Background(), "old", bin)
	if err == nil {
		t.Fatal("a protocol 0 plugin was started")
	}
	msg := err.Error()
	for _, want := range []string{`plugin "oldprotocol"`, "Plugin version: 0"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal does not say %q:\n%s", want, msg)
		}
	}
	// What was expected: go-plugin's own "Client versions: [1]", or the
	// host's hint (which core/host adds when it recognises the message).
	if !strings.Contains(msg, "Client versions: [1]") && !strings.Contains(msg, "this ebmflow speaks plugin protocol 1") {
		t.Errorf("refusal does not say which protocol ebmflow expects:\n%s", msg)
	}
	if sdk.ProtocolVersion != 1 {
		t.Fatalf("the expected messages above assume protocol 1; now %d", sdk.ProtocolVersion)
	}
}

// TestHostRefusesNonPlugin starts an ordinary program named like a plugin:
// the start is refused, quoting what it printed and asking whether it is an
// ebmflow plugin.
func TestHostRefusesNonPlugin(t *testing.T) {
	bin := buildRaw(t, "./testdata/notaplugin", "notaplugin")
	h := host.New(host.Options{Logger: zerolog.Nop()})
	defer h.Close()
	_, err := h.Start(context.Background(), "np", bin)
	if err == nil {
		t.Fatal("a program that is not a plugin was started")
	}
	msg := err.Error()
	for _, want := range []string{`plugin "notaplugin"`, "hello, I am not an ebmflow plugin", "is it an ebmflow plugin built with the ebmflow sdk?"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal does not say %q:\n%s", want, msg)
		}
	}
	if _, err := host.DescribeBinary(context.Background(), bin.Path); err == nil {
		t.Error("describe of a non-plugin succeeded")
	}
}
