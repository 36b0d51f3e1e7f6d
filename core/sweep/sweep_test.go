package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/zclconf/go-cty/cty"
)

const specSrc = `variable "eps" {
  default = 0.1
}

sweep {
  name     = "eps-lr"
  parallel = 3
  grid {
    lr  = [0.1, 0.01]
    eps = [0.01, 0.1, 1]
  }
  points = [{ eps = 0.5, lr = 0.3, kind = "gmm/x" }]
}

slurm {
  partition = "gpu"
  time      = "01:00:00"
  cpus      = 4
  memory    = "8G"
  gpus      = 1
  setup     = ["module load cuda"]
  options   = ["--qos=short"]
}

plugin "energy" {
  source = "bin/energy"
}

train {
  iterations = 3
}
`

func TestSplit(t *testing.T) {
	spec, rest, diags := Split("/data/p/pipe.hcl", []byte(specSrc))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if spec.Name != "eps-lr" || spec.Parallel != 3 || len(spec.Grid) != 2 || spec.Grid[0].Name != "lr" || spec.Grid[1].Name != "eps" || len(spec.Points) != 1 {
		t.Fatalf("spec %+v", spec)
	}
	want := SlurmSpec{Partition: "gpu", Time: "01:00:00", CPUs: 4, Memory: "8G", GPUs: 1, Setup: []string{"module load cuda"}, Options: []string{"--qos=short"}}
	if !reflect.DeepEqual(spec.Slurm, want) {
		t.Errorf("slurm %+v", spec.Slurm)
	}
	// The blocks are blanked, lines kept: train stays on its line.
	lines, orig := strings.Split(string(rest), "\n"), strings.Split(specSrc, "\n")
	for i, l := range orig {
		if strings.HasPrefix(l, "train") && lines[i] != l {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], l)
		}
	}
	if strings.Contains(string(rest), "sweep") || strings.Contains(string(rest), "partition") {
		t.Errorf("blocks left:\n%s", rest)
	}
	if !strings.Contains(string(rest), `source = "/data/p/bin/energy"`) {
		t.Errorf("relative plugin source not made absolute:\n%s", rest)
	}
}

func TestSplitErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"sweep {\n}\n", "Empty sweep"},
		{"sweep {\n  grid {\n    a = 1\n  }\n}\n", "Invalid grid values"},
		{"sweep {\n  points = [1]\n}\n", "Invalid points"},
		{"sweep {\n  points = [{a = 1}]\n  parallel = 0\n}\n", "Invalid parallel"},
		{"sweep {\n  points = [{a = 1}]\n}\nsweep {\n  points = [{a = 1}]\n}\n", "Duplicate sweep block"},
		{"slurm {\n  cpus = 2\n}\n", "Slurm block without a sweep block"},
		{"sweep {\n  points = [{a = 1}]\n}\nslurm {\n  cpu = 2\n}\n", "Unsupported argument"},
	} {
		_, _, diags := Split("p.hcl", []byte(c.src))
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, diags, c.want)
		}
	}
}

func TestExpand(t *testing.T) {
	spec, _, diags := Split("p.hcl", []byte(specSrc))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	pts, vars := spec.Expand(map[string]cty.Value{"iterations": cty.NumberIntVal(5), "lr": cty.NumberFloatVal(9)})
	if !reflect.DeepEqual(vars, []string{"lr", "eps", "kind"}) {
		t.Errorf("variables %v", vars)
	}
	names := make([]string, len(pts))
	for i, p := range pts {
		names[i] = p.Name
	}
	want := []string{"0-lr_0.1-eps_0.01", "1-lr_0.1-eps_0.1", "2-lr_0.1-eps_1", "3-lr_0.01-eps_0.01", "4-lr_0.01-eps_0.1", "5-lr_0.01-eps_1", "6-lr_0.3-eps_0.5-kind_gmm_x"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names\n%q\nwant\n%q", names, want)
	}
	if got := string(pts[6].VarFile()); got != "eps = 0.5\niterations = 5\nkind = \"gmm/x\"\nlr = 0.3\n" {
		t.Errorf("var file:\n%s", got)
	}
}

func TestParseVar(t *testing.T) {
	for raw, want := range map[string]cty.Value{"0.5": cty.NumberFloatVal(0.5), "true": cty.True, `"x"`: cty.StringVal("x"), "gmm": cty.StringVal("gmm"), "a b": cty.StringVal("a b")} {
		if got := ParseVar(raw); !got.RawEquals(want) {
			t.Errorf("%q: %#v, want %#v", raw, got, want)
		}
	}
}

func TestArraySpec(t *testing.T) {
	for _, c := range []struct {
		idx  []int
		k    int
		want string
	}{{[]int{0, 1, 2, 3}, 2, "0-3%2"}, {[]int{5, 1, 3, 2}, 0, "1-3,5"}, {[]int{7}, 1, "7%1"}} {
		if got := ArraySpec(c.idx, c.k); got != c.want {
			t.Errorf("%v %d: %q, want %q", c.idx, c.k, got, c.want)
		}
	}
	got := expandTaskIDs("12_[0-2,5%2]")
	if !reflect.DeepEqual(got, []string{"12_0", "12_1", "12_2", "12_5"}) {
		t.Errorf("expand: %v", got)
	}
	if got := expandTaskIDs("12_4"); !reflect.DeepEqual(got, []string{"12_4"}) {
		t.Errorf("expand: %v", got)
	}
}

func TestScript(t *testing.T) {
	s := &Sweep{Dir: "/shared/sw eep", Ebmflow: "/opt/ebmflow", Plan: Plan{Name: "x", Slurm: SlurmSpec{Partition: "gpu", Time: "1:00:00", GPUs: 2, Setup: []string{"module load cuda"}, Options: []string{"--qos=short"}}}}
	got := s.Script()
	for _, want := range []string{"#SBATCH --partition=gpu\n", "#SBATCH --time=1:00:00\n#SBATCH --signal=B:TERM@60\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --gpus-per-task=2\n",
		"#SBATCH --qos=short\n", "module load cuda\nexec '/opt/ebmflow' sweep task '/shared/sw eep' \"$SLURM_ARRAY_TASK_ID\"\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "module load") < strings.LastIndex(got, "#SBATCH") {
		t.Errorf("a command before an #SBATCH line stops sbatch reading them:\n%s", got)
	}
}

// TestCollectRow checks the window statistics against sums done here on
// a metrics file written here, and the verdict and TV of summary.json.
func TestCollectRow(t *testing.T) {
	dir := t.TempDir()
	f, _ := os.Create(filepath.Join(dir, "metrics.jsonl"))
	for i := 1; i <= 10; i++ {
		b, _ := json.Marshal(runner.Metric{T: i, LR: 0.1, DST: float64(i), R: 2 * float64(i), Wall: float64(i) / 10})
		fmt.Fprintf(f, "%s\n", b)
	}
	f.Close()
	// A plugin's own report.json is not read; the core's summary.json is.
	os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"verdict":"strong","metrics":{"tv_ebm":0.5}}`), 0o644)
	os.WriteFile(filepath.Join(dir, runner.SummaryFile), []byte(`{"t":10,"stages":{"diag":{"verdict":"weak","metrics":{"tv_ebm":0.25}}}}`), 0o644)
	r := collectRow(PointStatus{}, dir)
	// Last 5 of d_st = 1..10: 6..10, mean 8, sample sd sqrt(2.5).
	if r.Window != 5 || r.DSTMean != 8 || math.Abs(r.DSTSD-math.Sqrt(2.5)) > 1e-15 || r.DSTLast != 10 || r.RMean != 16 || r.RLast != 20 || r.Wall != 1 {
		t.Errorf("row %+v", r)
	}
	if r.Class != "weak" || r.TV != 0.25 {
		t.Errorf("report: %q %v", r.Class, r.TV)
	}
	if lastMetricT(filepath.Join(dir, "metrics.jsonl")) != 10 {
		t.Errorf("lastMetricT")
	}
	empty := collectRow(PointStatus{}, t.TempDir())
	if !math.IsNaN(empty.DSTMean) || !math.IsNaN(empty.TV) || empty.Class != "" {
		t.Errorf("empty run folder: %+v", empty)
	}
	var b strings.Builder
	if err := Plot(&b, "t", []Row{r, empty}); err != nil || !strings.HasPrefix(b.String(), "\x89PNG") {
		t.Errorf("plot: %v", err)
	}
}

func TestCheckSlurmMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := CheckSlurm(context.Background())
	if !errors.Is(err, ErrSlurmUnavailable) || !strings.Contains(err.Error(), "sbatch is not on PATH") {
		t.Fatalf("%v", err)
	}
}
