//go:build ignore

// wells.go measures how deep the learned energy's wells at the data are:
// for every checkpoint of the given runs of pipelines/toy-collapse.hcl it
// scores F (bin/ebmflow score) at data points x0 and at x0 + d*n, n a unit
// vector across the support, and prints
//
//	dU(d) = (mean over x0, n of F(x0 + d n) - F(x0)) * 2 / eps^2,
//
// the rise of U = F*2/eps^2 a distance d off the data, for d = eps/2, eps
// and 2 eps. Data with Gaussian noise of sd s in the direction n give
// dU(d) = d^2 / (2 s^2) for a model that has learnt them: 0.125 at d = eps
// for s = 2 eps.
//
//	go run docs/results/i19/collapse/wells.go runs/collapse/probe-segment-f0 ...
package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
)

const eps = 0.125

// offsets are the distances d off the data, in units of eps.
var offsets = []float64{0.5, 1, 2}

// probes returns the data points x0: on the segment (-0.5, 0), (0, 0) and
// (0.5, 0); of points all 8.
func probes(dataset string) (x0 [][2]float64) {
	if dataset == "segment" {
		return [][2]float64{{-0.5, 0}, {0, 0}, {0.5, 0}}
	}
	for k := range 8 {
		a := 2 * math.Pi * float64(k) / 8
		x0 = append(x0, [2]float64{math.Cos(a), math.Sin(a)})
	}
	return x0
}

// dirs returns the unit directions n across the support at p: on the
// segment (0, +-1); at a point +-radial and +-tangential.
func dirs(dataset string, p [2]float64) [][2]float64 {
	if dataset == "segment" {
		return [][2]float64{{0, 1}, {0, -1}}
	}
	return [][2]float64{{p[0], p[1]}, {-p[0], -p[1]}, {-p[1], p[0]}, {p[1], -p[0]}}
}

var nameRE = regexp.MustCompile(`(segment|points)-f([0-9.]+)`)

func main() {
	tmp, err := os.MkdirTemp("", "wells-")
	check(err)
	defer os.RemoveAll(tmp)
	fmt.Println("| run | t | dU(eps/2) | dU(eps) | dU(2 eps) | F at the data |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, run := range os.Args[1:] {
		m := nameRE.FindStringSubmatch(filepath.Base(run))
		if m == nil {
			check(fmt.Errorf("%s: want a name with segment-fF or points-fF", run))
		}
		dataset := m[1]
		x0 := probes(dataset)
		var pts []float32
		for _, p := range x0 {
			pts = append(pts, float32(p[0]), float32(p[1]))
			for _, d := range offsets {
				for _, n := range dirs(dataset, p) {
					pts = append(pts, float32(p[0]+d*eps*n[0]), float32(p[1]+d*eps*n[1]))
				}
			}
		}
		in := filepath.Join(tmp, dataset+".safetensors")
		check(safetensors.WriteFile(in, map[string]*sdk.Tensor{"x": sdk.FromFloat32(pts, len(pts)/2, 2)}, nil))
		cks, _ := filepath.Glob(filepath.Join(run, "checkpoints", "*"))
		for _, ck := range cks {
			out := filepath.Join(tmp, "f.csv")
			cmd := exec.Command("bin/ebmflow", "score", "-pipeline", "pipelines/toy-collapse.hcl", "-var", "dataset="+dataset,
				"-checkpoint", ck, "-input", in, "-out", out)
			if b, err := cmd.CombinedOutput(); err != nil {
				check(fmt.Errorf("score %s: %v\n%s", ck, err, b))
			}
			f := readCSV(out)
			var du [3]float64
			var f0 float64
			i := 0
			for _, p := range x0 {
				base := f[i]
				f0 += base / float64(len(x0))
				i++
				nd := len(dirs(dataset, p))
				for k := range offsets {
					for range nd {
						du[k] += (f[i] - base) * 2 / (eps * eps) / float64(nd*len(x0))
						i++
					}
				}
			}
			t, _ := strconv.Atoi(filepath.Base(ck))
			fmt.Printf("| %s | %d | %.3g | %.3g | %.3g | %.3g |\n", filepath.Base(run), t, du[0], du[1], du[2], f0)
		}
	}
}

// readCSV returns the energy column of score's CSV output.
func readCSV(path string) []float64 {
	fh, err := os.Open(path)
	check(err)
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	check(err)
	var f []float64
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		check(err)
		f = append(f, v)
	}
	return f
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
