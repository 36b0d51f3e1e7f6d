//go:build ignore

// analyse.go reads the runs of pipelines/toy-collapse.hcl (folders named
// DATASET-fFACTOR-sSEED under -runs), prints the tables of docs/results.md's
// "Appendix C on a toy analogue", writes collapse.png (d_st and r_t against
// iterations) and stats.json into -out, and each run's metrics thinned to
// every 10th iteration plus the last 100 into -out/NAME/metrics-thinned.jsonl.
//
//	go run docs/results/i19/collapse/analyse.go docs/results/i19/collapse/figure.go \
//		-runs runs/collapse -out docs/results/i19/collapse
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// rec is one line of metrics.jsonl; raw keeps it as written.
type rec struct {
	T    int     `json:"t"`
	DST  float64 `json:"d_st"`
	R    float64 `json:"r_t"`
	FPos float64 `json:"mean_f_pos"`
	FNeg float64 `json:"mean_f_neg"`
	Wall float64 `json:"wall_seconds"`
	raw  []byte
}

// run is one run folder and what analyse computes of it.
type run struct {
	Name    string  `json:"name"`
	Dataset string  `json:"dataset"`
	Factor  float64 `json:"data_noise_factor"`
	Seed    int     `json:"seed"`
	State   string  `json:"state"`
	LastT   int     `json:"last_t"`
	SPerIt  float64 `json:"s_per_iteration"`
	// Cross[k] is the first t at which the 10-iteration running mean of
	// d_st is below Thresholds[k] (0: never).
	Cross []int `json:"first_t_running_mean_below"`
	// FirstW holds means over iterations 1-100; EndW over the 100
	// iterations before the running mean first falls below -10, or the
	// run's last 100, from iteration EndFrom on.
	FirstW  window `json:"first_100"`
	EndW    window `json:"end_100"`
	EndFrom int    `json:"end_from"`
	// Tail is the mean and sd of d_st over the last 1,000 iterations and
	// the least-squares slope (per 1,000 iterations) with its standard
	// error over the last 2,000, for runs that did not collapse.
	TailMean float64 `json:"tail_d_st_mean"`
	TailSD   float64 `json:"tail_d_st_sd"`
	Slope    float64 `json:"tail_slope_per_1000"`
	SlopeSE  float64 `json:"tail_slope_se"`
	recs     []rec
	runMean  []float64
}

// window holds means over a range of iterations.
type window struct {
	DST  float64 `json:"d_st"`
	R    float64 `json:"r_t"`
	FPos float64 `json:"mean_f_pos"`
	FNeg float64 `json:"mean_f_neg"`
}

// Thresholds are the levels of d_st's running mean whose first crossing is reported.
var Thresholds = []float64{-2, -10, -100}

var nameRE = regexp.MustCompile(`^([a-z]+)-f([0-9.]+)-s([0-9]+)$`)

func main() {
	runs := flag.String("runs", "runs/collapse", "folder of the run folders")
	out := flag.String("out", "docs/results/i19/collapse", "output folder")
	flag.Parse()
	dirs, _ := filepath.Glob(filepath.Join(*runs, "*"))
	var rs []*run
	for _, d := range dirs {
		m := nameRE.FindStringSubmatch(filepath.Base(d))
		if m == nil {
			continue
		}
		r := &run{Name: m[1] + "-f" + m[2] + "-s" + m[3], Dataset: m[1]}
		fmt.Sscan(m[2], &r.Factor)
		fmt.Sscan(m[3], &r.Seed)
		if err := r.load(d); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", d, err)
			continue
		}
		r.analyse()
		rs = append(rs, r)
		if err := r.thin(filepath.Join(*out, r.Name, "metrics-thinned.jsonl")); err != nil {
			fail(err)
		}
	}
	slices.SortFunc(rs, func(a, b *run) int {
		if a.Dataset != b.Dataset {
			return -cmpStr(a.Dataset, b.Dataset) // segment first
		}
		if a.Factor != b.Factor {
			return int(math.Copysign(1, a.Factor-b.Factor))
		}
		return a.Seed - b.Seed
	})
	printTables(rs)
	b, _ := json.MarshalIndent(rs, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "stats.json"), append(b, '\n'), 0o644); err != nil {
		fail(err)
	}
	if err := figure(filepath.Join(*out, "collapse.png"), rs); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// load reads metrics.jsonl and the state of status.json.
func (r *run) load(dir string) error {
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m rec
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("metrics line %d: %w", len(r.recs)+1, err)
		}
		m.raw = slices.Clone(sc.Bytes())
		r.recs = append(r.recs, m)
	}
	if len(r.recs) == 0 {
		return fmt.Errorf("no metrics")
	}
	var st struct {
		State string `json:"state"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "status.json")); err == nil {
		json.Unmarshal(b, &st)
	}
	r.State = st.State
	return sc.Err()
}

// analyse computes the running mean, the crossings, the windows and, for
// runs that did not collapse, the tail statistics.
func (r *run) analyse() {
	n := len(r.recs)
	r.LastT = r.recs[n-1].T
	if n > 1 {
		r.SPerIt = (r.recs[n-1].Wall - r.recs[0].Wall) / float64(n-1)
	}
	r.runMean = make([]float64, n)
	var sum float64
	for i, m := range r.recs {
		sum += m.DST
		if i >= 10 {
			sum -= r.recs[i-10].DST
		}
		r.runMean[i] = sum / float64(min(i+1, 10))
	}
	r.Cross = make([]int, len(Thresholds))
	for k, th := range Thresholds {
		for i, v := range r.runMean {
			if v < th {
				r.Cross[k] = r.recs[i].T
				break
			}
		}
	}
	r.FirstW = mean(r.recs[:min(100, n)])
	end := n
	if r.Cross[1] > 0 {
		end = slices.IndexFunc(r.recs, func(m rec) bool { return m.T == r.Cross[1] })
	}
	lo := max(0, end-100)
	r.EndFrom = r.recs[lo].T
	r.EndW = mean(r.recs[lo:end])
	if r.Cross[1] == 0 && n >= 2000 {
		tail := r.recs[n-1000:]
		var s, s2 float64
		for _, m := range tail {
			s += m.DST
			s2 += m.DST * m.DST
		}
		r.TailMean = s / 1000
		r.TailSD = math.Sqrt((s2 - 1000*r.TailMean*r.TailMean) / 999)
		r.Slope, r.SlopeSE = slope(r.recs[n-2000:])
	}
}

func mean(ms []rec) window {
	var w window
	for _, m := range ms {
		w.DST += m.DST
		w.R += m.R
		w.FPos += m.FPos
		w.FNeg += m.FNeg
	}
	k := float64(len(ms))
	return window{w.DST / k, w.R / k, w.FPos / k, w.FNeg / k}
}

// slope returns the least-squares slope of d_st against t, per 1,000
// iterations, and its standard error (independent residuals assumed).
func slope(ms []rec) (b, se float64) {
	var st, sd float64
	for _, m := range ms {
		st += float64(m.T)
		sd += m.DST
	}
	k := float64(len(ms))
	mt, md := st/k, sd/k
	var stt, std float64
	for _, m := range ms {
		stt += (float64(m.T) - mt) * (float64(m.T) - mt)
		std += (float64(m.T) - mt) * (m.DST - md)
	}
	b = std / stt
	var rss float64
	for _, m := range ms {
		e := m.DST - md - b*(float64(m.T)-mt)
		rss += e * e
	}
	return 1000 * b, 1000 * math.Sqrt(rss/(k-2)/stt)
}

// thin writes every 10th record and the last 100, as written.
func (r *run) thin(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b []byte
	n := len(r.recs)
	for i, m := range r.recs {
		if i == 0 || m.T%10 == 0 || i >= n-100 {
			b = append(append(b, m.raw...), '\n')
		}
	}
	return os.WriteFile(path, b, 0o644)
}

// printTables prints the markdown tables of docs/results.md.
func printTables(rs []*run) {
	fmt.Println("| run | end (t) | s/it | d_st mean 1-100 | first t: mean_10 d_st < -2 / -10 / -100 | window | d_st | F data | F samples | r_t (1-100 -> window) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		cross := ""
		for k, c := range r.Cross {
			if k > 0 {
				cross += " / "
			}
			if c == 0 {
				cross += "-"
			} else {
				cross += fmt.Sprint(c)
			}
		}
		end := fmt.Sprintf("%d (%s)", r.LastT, r.State)
		fmt.Printf("| %s | %s | %.4f | %.3f | %s | %d-%d | %.3g | %.3g | %.3g | %.3g -> %.3g |\n",
			r.Name, end, r.SPerIt, r.FirstW.DST, cross, r.EndFrom, r.EndFrom+99, r.EndW.DST, r.EndW.FPos, r.EndW.FNeg, r.FirstW.R, r.EndW.R)
	}
	fmt.Println()
	fmt.Println("| run | d_st mean ± sd, last 1,000 | slope per 1,000, last 2,000 (± se) |")
	fmt.Println("|---|---|---|")
	for _, r := range rs {
		if r.TailSD > 0 {
			fmt.Printf("| %s | %.4f ± %.3f | %.4f ± %.4f |\n", r.Name, r.TailMean, r.TailSD, r.Slope, r.SlopeSE)
		}
	}
}
