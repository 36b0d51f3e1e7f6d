package sweep

import (
	"context"
	"sync"
	"time"
)

// Result is how one point's attempt ended.
type Result struct {
	Point    Point
	ExitCode int
	Err      error
}

// RunLocal runs the points with the given indices on this machine, at most
// parallel at once, each as a subprocess `ebmflow run` (RunPoint). A point
// that fails does not stop the others. Once ctx is cancelled or `sweep
// cancel` marks the sweep, no new point starts and running ones receive
// SIGTERM (they checkpoint and exit 4). done, when set, is called as each
// point ends. The results are in index order.
func (s *Sweep) RunLocal(ctx context.Context, indices []int, parallel int, done func(Result)) ([]Result, error) {
	if parallel < 1 {
		parallel = 1
	}
	s.Submissions = append(s.Submissions, Submission{Time: time.Now().UTC(), Executor: Local, Indices: indices, Retry: len(s.Submissions) > 0})
	if err := s.Save(); err != nil {
		return nil, err
	}
	// Watch for `sweep cancel` from another process: it signals the runs
	// itself, so the mark only stops new points (a second SIGTERM would
	// make a run stop at once, without its checkpoint). Cancelling ctx
	// sends each run one SIGTERM.
	runCtx := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if s.Cancelled() {
					cancel()
					return
				}
			}
		}
	}()

	results := make([]Result, len(indices))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for k, i := range indices {
		p, err := s.Point(i)
		if err != nil {
			return nil, err
		}
		results[k] = Result{Point: p, ExitCode: -1}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			code, err := s.RunPoint(runCtx, p, Local, "")
			r := Result{Point: p, ExitCode: code, Err: err}
			mu.Lock()
			results[k] = r
			if done != nil {
				done(r)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results, nil
}
