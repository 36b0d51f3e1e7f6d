// Package python_test runs the Python SDK's unit tests and checks what a
// Python plugin process does against the Go side: the random streams, the
// handshake line and its certificate, the process rules.
package python_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

const python = "/usr/bin/python3"

func needPython(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import grpc and protobuf (apt-get install python3-grpcio python3-protobuf): %v\n%s", python, err, out)
	}
}

// TestUnit runs sdk/python/tests (codec checks, schema, tensors).
func TestUnit(t *testing.T) {
	needPython(t)
	out, err := exec.Command(python, "-m", "unittest", "discover", "-s", "tests").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestStreamMatchesGo: ebmflow_plugin.Stream draws what sdk.NewStream draws
// and saves its state in the same bytes.
func TestStreamMatchesGo(t *testing.T) {
	needPython(t)
	script := `import sys
from ebmflow_plugin import Stream
for seed, name in ((0, ""), (123, "init"), (2**64 - 1, "langevin:diag:x")):
    s = Stream(seed, name)
    a = [s.uint64() for _ in range(3)] + [s.float64().hex() for _ in range(2)] + [x.hex() for x in s.floats(2)]
    print(" ".join(map(str, a)), s.state().hex())`
	out, err := exec.Command(python, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var want []string
	for _, c := range []struct {
		seed uint64
		name string
	}{{0, ""}, {123, "init"}, {1<<64 - 1, "langevin:diag:x"}} {
		s := sdk.NewStream(c.seed, c.name)
		var f []string
		for range 3 {
			f = append(f, fmt.Sprint(s.Uint64()))
		}
		for range 4 {
			f = append(f, pyHex(s.Float64()))
		}
		st, _ := s.MarshalBinary()
		want = append(want, strings.Join(f, " ")+" "+hex.EncodeToString(st))
	}
	if got := strings.Fields(strings.TrimSpace(string(out))); strings.Join(got, " ") != strings.Join(strings.Fields(strings.Join(want, " ")), " ") {
		t.Errorf("python:\n%s\ngo:\n%s", out, strings.Join(want, "\n"))
	}
}

// pyHex formats a float as Python's float.hex does.
func pyHex(f float64) string {
	if f == 0 {
		return "0x0.0p+0"
	}
	s := fmt.Sprintf("%x", f) // 0x1.abcp-03
	mant, exp, _ := strings.Cut(s, "p")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	for len(strings.SplitN(mant, ".", 2)[1]) < 13 {
		mant += "0"
	}
	sign := exp[:1]
	e := strings.TrimLeft(exp[1:], "0")
	if e == "" {
		e = "0"
	}
	return mant + "p" + sign + e
}

const plugin = `#!/usr/bin/python3
import sys
sys.path.insert(0, SDK)
from ebmflow_plugin import *

class E(Energy):
    name = "pyprobe"
    version = "0.1.0"
    schema = [Attribute("epsilon", NUMBER, "noise", required=True)]

serve(E())
`

// TestProcessRules starts a Python plugin as ebmflow would, checks its
// handshake line and the certificate in it, then kills its parent with
// SIGKILL and checks that the plugin exits by itself (SIGTERM and SIGINT
// before that do not end it). Started by hand it
// says what it is and exits 1; "describe" prints JSON.
func TestProcessRules(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	sdkDir, _ := filepath.Abs(".")
	exe := filepath.Join(dir, "ebmflow-plugin-pyprobe")
	if err := os.WriteFile(exe, []byte(strings.Replace(plugin, "SDK", fmt.Sprintf("%q", sdkDir), 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "is an ebmflow energy plugin") {
		t.Errorf("started by hand: %v\n%s", err, out)
	}
	if out, err := exec.Command(exe, "describe").Output(); err != nil || !strings.Contains(string(out), `"name": "pyprobe"`) {
		t.Errorf("describe: %v\n%s", err, out)
	}
	// A parent shell that starts the plugin, prints its pid and waits.
	parent := exec.Command("/bin/sh", "-c", exe+" & echo $! >&2; wait")
	parent.Env = append(os.Environ(), "EBMFLOW_PLUGIN_MAGIC_COOKIE=7c1b4a0e-ebmflow-energy-based-models",
		"PLUGIN_PROTOCOL_VERSIONS=1", "PLUGIN_CLIENT_CERT="+hostCert(t))
	stdout, _ := parent.StdoutPipe()
	stderr, _ := parent.StderrPipe()
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Fscan(stderr, &pid)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no handshake line: %v", err)
	}
	f := strings.Split(strings.TrimSpace(line), "|")
	if len(f) != 6 || f[0] != "1" || f[1] != "1" || f[2] != "tcp" || !strings.HasPrefix(f[3], "127.0.0.1:") || f[4] != "grpc" {
		t.Fatalf("handshake line %q", line)
	}
	der, err := base64.RawStdEncoding.DecodeString(f[5])
	if err != nil {
		t.Fatalf("certificate field: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("the plugin's certificate does not verify for localhost: %v", err)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("self-signature: %v", err)
	}
	// SIGINT and SIGTERM are the host's: the plugin stays.
	syscall.Kill(pid, syscall.SIGTERM)
	syscall.Kill(pid, syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the plugin ended on SIGTERM/SIGINT: %v", err)
	}
	parent.Process.Signal(syscall.SIGKILL)
	parent.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the plugin (pid %d) outlived its parent by 3 s", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostCert is a certificate such as the host passes in PLUGIN_CLIENT_CERT.
func hostCert(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
