package dashboard

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkBrowserOpenRun100k: from navigating to a run of 100,000
// iterations, with a fresh server (nothing parsed yet), until Chromium has
// drawn every chart with its points: page, scripts, the run's details, the
// metrics parsed, downsampled and sent, and uPlot's drawing.
func BenchmarkBrowserOpenRun100k(b *testing.B) {
	browser := chromium()
	if browser == "" {
		b.Skip("no Chromium: install Debian's chromium or set EBMFLOW_CHROMIUM")
	}
	root := bigRun(b, 100000)
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		b.Fatal(err)
	}
	const drawn = `(() => { const bs = [...document.querySelectorAll("[data-metric]")];
		return bs.length >= 9 && bs.every(b => +(b.dataset.points || "0").split(",")[0] > 0); })()`
	// open times the navigation to url until the charts are drawn, from
	// a blank page.
	open := func(b *testing.B, url string) {
		b.StopTimer()
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.Poll[chromedp.Void](drawn, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s, err := New(Options{Dirs: []string{root}})
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(s)
			b.StartTimer()
			open(b, hs.URL+"/#/run/0%2Fbig")
			hs.Close()
			s.Close()
		}
	})
	b.Run("warm", func(b *testing.B) {
		s, _ := New(Options{Dirs: []string{root}})
		hs := httptest.NewServer(s)
		defer func() { hs.Close(); s.Close() }()
		open(b, hs.URL+"/#/run/0%2Fbig")
		for b.Loop() {
			open(b, hs.URL+"/#/run/0%2Fbig")
		}
	})
}
