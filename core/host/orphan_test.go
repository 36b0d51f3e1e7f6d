package host

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

const helperEnv = "EBMFLOW_HOST_TEST_HELPER"

// hostHelper runs when the test binary is re-executed as a host: it starts
// four plugins, prints their pids, and waits for SIGINT or SIGTERM, on which
// it closes the host as ebmflow's commands do.
func hostHelper() {
	dir := os.Getenv(helperEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	h := New(Options{Logger: zerolog.New(os.Stderr)})
	defer h.Close()
	var pids []string
	var energy *Process
	for _, k := range []string{"testenergy", "testsampler", "testdata", "testdiag"} {
		p, err := h.Start(ctx, k, Binary{Name: k, Path: dir + "/" + BinaryPrefix + k})
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		var links []rpc.Link
		if k == "testsampler" {
			links = []rpc.Link{{Attribute: "energy", Target: energy.Client, Kind: sdk.KindEnergy}}
		}
		if _, _, err := p.Configure(ctx, rpc.ConfigureArgs{Stage: k, Links: links, Upstream: map[string]sdk.Shapes{"energy": {"input": {2}}}, Values: map[string]json.RawMessage{}}); err != nil {
			fmt.Println("error:", err)
			return
		}
		if k == "testenergy" {
			energy = p
		}
		pids = append(pids, strconv.Itoa(p.Pid()))
	}
	fmt.Println("pids", strings.Join(pids, " "))
	<-ctx.Done()
}

func alive(pid int) bool {
	// A zombie is not alive: read its state from /proc.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func waitGone(t *testing.T, pids []int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("plugin process %d outlived its host", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestCloseKillsPlugins(t *testing.T) {
	h, _ := newTestHost(t, Options{})
	var pids []int
	for _, k := range []string{"testenergy", "testdata", "testdiag"} {
		p := start(t, h, k, k, nil)
		pids = append(pids, p.Pid())
	}
	h.Close()
	waitGone(t, pids, 5*time.Second)
}

func runHelperHost(t *testing.T) (*exec.Cmd, []int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+kitDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "pids ") {
		cmd.Process.Kill()
		t.Fatalf("helper host said %q (%v)", line, err)
	}
	var pids []int
	for _, f := range strings.Fields(line)[1:] {
		pid, _ := strconv.Atoi(f)
		pids = append(pids, pid)
	}
	return cmd, pids
}

func TestNoOrphansOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, pids := runHelperHost(t)
			for _, pid := range pids {
				if !alive(pid) {
					t.Fatalf("plugin %d not running before the signal", pid)
				}
			}
			cmd.Process.Signal(sig)
			cmd.Wait()
			// SIGINT/SIGTERM: the host kills its plugins. SIGKILL: each
			// plugin notices it lost its parent and exits.
			waitGone(t, pids, 5*time.Second)
		})
	}
}
