// Package dashboard is the web dashboard `ebmflow serve` runs: a read-only
// HTTP server over the run folders and sweep folders under a few served
// folders, with a page (embedded, no CDN) that lists the runs, charts a
// run's metrics live, shows its sample grids, density and diagnostics
// figures and manifest, and overlays a metric across runs or a sweep's
// points.
//
// Every file is read through an os.Root per served folder, so paths that
// leave it (.., absolute paths, symlinks pointing out) are refused. Metrics
// are parsed once and then followed by reading only the bytes appended to
// metrics.jsonl; charts get at most a few thousand points, the minimum and
// the maximum of every bucket of iterations, so that a long run opens as
// fast as a short one.
package dashboard
