package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServe runs a pipeline of test plugins, then `ebmflow serve` over its
// run folder on a free loopback port: the run is listed as finished with
// its iterations, POST is refused, and SIGTERM ends the server with 0.
func TestServe(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	runs := filepath.Join(t.TempDir(), "runs")
	if code, out := ebmflow(t, bin, "run", "-out", filepath.Join(runs, "e2e"), writePipeline(t)); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	if code, out := ebmflow(t, bin, "serve", filepath.Join(runs, "missing")); code != exitInvalid || !strings.Contains(out, "not a folder") {
		t.Errorf("serve of a missing folder: exit %d\n%s", code, out)
	}
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-log-level", "warn", runs)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	_, url, ok := strings.Cut(strings.TrimSpace(line), " on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("serve printed %q", line)
	}
	r, err := http.Get(url + "api/runs")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Runs []struct {
			Name, State        string
			Iteration, Planned int
		}
	}
	err = json.NewDecoder(r.Body).Decode(&list)
	r.Body.Close()
	if err != nil || len(list.Runs) != 1 || list.Runs[0].Name != "e2e" || list.Runs[0].State != "finished" || list.Runs[0].Iteration != 40 || list.Runs[0].Planned != 40 {
		t.Errorf("run list %+v (%v)", list, err)
	}
	if r, err := http.Post(url+"api/runs", "text/plain", nil); err != nil {
		t.Error(err)
	} else if r.Body.Close(); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", r.StatusCode)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("serve did not stop on SIGTERM")
	}
}
