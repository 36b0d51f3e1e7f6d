// Package runner turns a bound pipeline into running plugin processes and
// trains with them: each iteration takes the schedule's learning rate, draws
// positives and negatives concurrently, updates the energy and feeds the
// diagnostics; it writes the run folder (manifest, metrics, checkpoints,
// sample grids), resumes from a checkpoint and verifies a run by rerunning
// it.
package runner
