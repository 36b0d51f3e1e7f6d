//go:build ignore

// figure draws a 2x2 comparison of scaled-down MNIST runs from their
// metrics.jsonl files: the running mean of d_st (symlog), r_t (log, with
// appendix A's band [0.08, 0.15] dashed), MMD² of the diagnostics stage's
// short-run samples to held-out digits, and the fraction of sample pixels
// beyond [-1, 1]. With -dlim and -rlim a curve that leaves the range ends
// in a cross (a runaway, or a non-finite value).
//
//	go run docs/results/i19/mnist-figures/figure.go -o OUT.png -title T LABEL=METRICS.jsonl ...
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"log"
	"math"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type rec struct {
	T     int                `json:"t"`
	D     float64            `json:"d_st"`
	R     float64            `json:"r_t"`
	Extra map[string]float64 `json:"extra"`
}

type series struct {
	label string
	recs  []rec
}

func read(path string) ([]rec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []rec
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			// a line being written while the run goes on
			continue
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}

// symlog maps y to sign(y) log10(1 + |y|).
func symlog(y float64) float64 { return math.Copysign(math.Log10(1+math.Abs(y)), y) }

type symlogScale struct{}

func (symlogScale) Normalize(lo, hi, x float64) float64 {
	return (symlog(x) - symlog(lo)) / (symlog(hi) - symlog(lo))
}

// symlogTicks marks 0 and +-10^k within the axis range, every stride-th
// decade from 10^stride on, so that each side has at most 5 labels.
type symlogTicks struct{}

func (symlogTicks) Ticks(lo, hi float64) []plot.Tick {
	top := int(math.Floor(math.Log10(max(-lo, hi, 1))))
	stride := max(1, (top+4)/5)
	ts := []plot.Tick{{Value: 0, Label: "0"}}
	for e := stride; e <= top; e += stride {
		v := math.Pow(10, float64(e))
		if v <= hi {
			ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("1e%d", e)})
		}
		if -v >= lo {
			ts = append(ts, plot.Tick{Value: -v, Label: fmt.Sprintf("-1e%d", e)})
		}
	}
	return ts
}

// intTicks marks the iteration axis every 1, 2 or 5 x 10^k iterations,
// at most 8 labels, without decimals.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for k := 1.0; ; k *= 10 {
		if s := 1 * k; hi/s <= 8 {
			step = s
			break
		}
		if s := 2 * k; hi/s <= 8 {
			step = s
			break
		}
		if s := 5 * k; hi/s <= 8 {
			step = s
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ts
}

var palette = []color.Color{
	color.RGBA{R: 200, G: 30, B: 30, A: 255},
	color.RGBA{R: 30, G: 80, B: 200, A: 255},
	color.RGBA{R: 30, G: 150, B: 40, A: 255},
	color.RGBA{R: 150, G: 60, B: 170, A: 255},
	color.RGBA{R: 230, G: 140, B: 0, A: 255},
	color.RGBA{R: 0, G: 160, B: 170, A: 255},
}

func panel(title, y string, xmax float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "iteration t"
	p.Y.Label.Text = y
	p.X.Min, p.X.Max = 0, xmax
	p.X.Tick.Marker = intTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p
}

func hline(p *plot.Plot, y, xmax float64) {
	l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: y}, {X: xmax, Y: y}})
	l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	l.Color = color.Gray{Y: 90}
	p.Add(l)
}

func main() {
	out := flag.String("o", "", "output PNG")
	title := flag.String("title", "", "title prefix of the panels")
	window := flag.Int("window", 25, "iterations in d_st's running mean")
	tmax := flag.Int("tmax", 0, "draw iterations up to this one only (0: all)")
	dynamics := flag.Bool("dynamics", false, "draw only the d_st and r_t panels")
	mmdLog := flag.Bool("mmdlog", false, "MMD² on a log axis (positive values only; no floor line)")
	dlim := flag.Float64("dlim", 0, "end a d_st curve with a cross where |mean| first exceeds this (0: no limit)")
	rlim := flag.Float64("rlim", 0, "end an r_t curve with a cross where it first exceeds this (0: no limit)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		log.Fatal("usage: figure -o OUT.png [-title T] LABEL=METRICS.jsonl ...")
	}
	var ss []series
	xmax := 0.0
	for _, a := range flag.Args() {
		i := strings.LastIndex(a, "=")
		if i < 0 {
			log.Fatalf("%s: want LABEL=METRICS.jsonl", a)
		}
		lbl, path := a[:i], a[i+1:]
		rs, err := read(path)
		if err != nil {
			log.Fatal(err)
		}
		if *tmax > 0 {
			n := 0
			for n < len(rs) && rs[n].T <= *tmax {
				n++
			}
			rs = rs[:n]
		}
		if len(rs) == 0 {
			log.Fatalf("%s: no records", path)
		}
		ss = append(ss, series{lbl, rs})
		xmax = max(xmax, float64(rs[len(rs)-1].T))
	}
	pre := ""
	if *title != "" {
		pre = *title + ": "
	}
	d := panel(fmt.Sprintf("%sd_st, mean of %d iterations", pre, *window), "d_st (U units)", xmax)
	d.Y.Scale, d.Y.Tick.Marker = symlogScale{}, symlogTicks{}
	r := panel(pre+"r_t (Langevin gradient magnitude)", "r_t", xmax)
	r.Y.Scale, r.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	m := panel(pre+"MMD² of short-run samples to test digits", "MMD²", xmax)
	b := panel(pre+"sample pixels beyond [-1, 1]", "fraction", xmax)
	b.Y.Min, b.Y.Max = 0, 1
	dlo, dhi, rlo, rhi, mlo, mhi := 0.0, 0.0, math.Inf(1), 0.0, math.Inf(1), 0.0
	floor := math.NaN()
	for i, s := range ss {
		c := palette[i%len(palette)]
		var dp, rp, mp, bp, dx, rx plotter.XYs
		dEnd, rEnd := false, false
		sum := 0.0
		for j, x := range s.recs {
			sum += x.D
			if j >= *window {
				sum -= s.recs[j-*window].D
			}
			if j+1 >= *window && !dEnd {
				v := sum / float64(*window)
				if math.IsNaN(v) || math.IsInf(v, 0) || (*dlim > 0 && math.Abs(v) > *dlim) {
					if *dlim > 0 {
						v = math.Copysign(*dlim, v)
						dp = append(dp, plotter.XY{X: float64(x.T), Y: v})
						dx = append(dx, plotter.XY{X: float64(x.T), Y: v})
						dlo, dhi = min(dlo, v), max(dhi, v)
					}
					dEnd = true
				} else {
					dp = append(dp, plotter.XY{X: float64(x.T), Y: v})
					dlo, dhi = min(dlo, v), max(dhi, v)
				}
			}
			if !rEnd && x.R > 0 {
				v := x.R
				if math.IsInf(v, 0) || math.IsNaN(v) || (*rlim > 0 && v > *rlim) {
					if *rlim > 0 {
						rp = append(rp, plotter.XY{X: float64(x.T), Y: *rlim})
						rx = append(rx, plotter.XY{X: float64(x.T), Y: *rlim})
						rhi = max(rhi, *rlim)
					}
					rEnd = true
				} else {
					rp = append(rp, plotter.XY{X: float64(x.T), Y: v})
					rlo, rhi = min(rlo, v), max(rhi, v)
				}
			}
			if v, ok := x.Extra["diagnostics.mmd2_samples"]; ok && (!*mmdLog || v > 0) {
				mp = append(mp, plotter.XY{X: float64(x.T), Y: v})
				mlo, mhi = min(mlo, v), max(mhi, v)
				floor = x.Extra["diagnostics.mmd2_floor"]
			}
			if v, ok := x.Extra["diagnostics.beyond_samples"]; ok {
				bp = append(bp, plotter.XY{X: float64(x.T), Y: v})
			}
		}
		for _, pl := range []struct {
			p      *plot.Plot
			pts    plotter.XYs
			points bool
		}{{d, dp, false}, {r, rp, false}, {m, mp, true}, {b, bp, true}} {
			if len(pl.pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pl.pts)
			if err != nil {
				log.Fatal(err)
			}
			l.Color, l.Width = c, vg.Points(1)
			pl.p.Add(l)
			if pl.points {
				sc, _ := plotter.NewScatter(pl.pts)
				sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(2.5), Color: c}
				pl.p.Add(sc)
			}
			pl.p.Legend.Add(s.label, l)
		}
		for _, pl := range []struct {
			p   *plot.Plot
			pts plotter.XYs
		}{{d, dx}, {r, rx}} {
			if len(pl.pts) > 0 {
				sc, _ := plotter.NewScatter(pl.pts)
				sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CrossGlyph{}, Radius: vg.Points(5), Color: c}
				pl.p.Add(sc)
			}
		}
	}
	d.Y.Min, d.Y.Max = min(dlo, -1)*1.2, max(dhi, 1)*1.2
	hline(d, 0, xmax)
	r.Y.Min, r.Y.Max = min(rlo, 0.08)/1.3, max(rhi, 0.15)*1.3
	hline(r, 0.08, xmax)
	hline(r, 0.15, xmax)
	m.Y.Min, m.Y.Max = min(0, floor), max(mhi, 0.001)*1.15
	if *mmdLog {
		m.Y.Scale, m.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		m.Y.Min, m.Y.Max = mlo/1.5, mhi*1.5
		m.Title.Text += " (log)"
	} else if !math.IsNaN(floor) {
		hline(m, floor, xmax)
	}
	d.Legend.Top, d.Legend.Left = false, false
	r.Legend.Top = true
	if *dynamics {
		// one legend, in the r_t panel's upper left, clear of the curves
		d.Legend = plot.NewLegend()
		r.Legend.Left = true
	}
	m.Legend.Top = true
	b.Legend.Top = true
	plots, height := [][]*plot.Plot{{d, r}, {m, b}}, 9*vg.Inch
	if *dynamics {
		plots, height = plots[:1], 5*vg.Inch
	}
	img := vgimg.NewWith(vgimg.UseWH(13*vg.Inch, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(plots), Cols: 2, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 5}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
