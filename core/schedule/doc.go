// Package schedule computes the learning rate of each training iteration
// t = 1, 2, ... . A Schedule starts at t = 1; LR returns lr_t and Step moves
// to t+1. The kinds (a Config's type), with initial the initial rate:
//
//	constant  lr_t = initial
//	exp       lr_1 = initial, lr_{t+1} = max(min, lr_t * decay)
//	linear    lr_t = initial + (final - initial) * (t-1)/iterations, then final for t > iterations
//	cosine    lr_t = min + (initial - min) * (1 + cos(pi*(t-1)/iterations))/2, then min for t > iterations
//	step      lr_t = initial * gamma^floor((t-1)/step_size)
//
// "exp" is the reference's per-iteration exponential decay with a floor, and
// it is computed as the reference computes it: by repeated float64
// multiplication, never with math.Pow, so that lr_t is bit for bit the value
// PyTorch's ExponentialLR-style update lr <- max(lr_min, lr * decay) gives.
// "step" multiplies by gamma at each step boundary, as PyTorch's StepLR does.
// SolveDecay gives the decay that anneals one rate to another over a number
// of updates (appendix B: 0.05 to 0.0005 over 100,000 updates).
//
// Any kind may start with a linear warm-up of w = warmup iterations. Writing
// b_t for the value of the schedule above:
//
//	lr_t = warmup_start + (b_{w+1} - warmup_start) * (t-1)/w   for t <= w
//	lr_t = b_t                                               for t > w
//
// so lr_1 = warmup_start and the ramp reaches the schedule's own value at
// t = w+1. The schedule's clock is not shifted by the warm-up: "exp" decays
// and "cosine" turns during the warm-up as they would without it.
//
// State is the small JSON-able record (t and lr_t) that a checkpoint saves.
// Restore brings a freshly built Schedule to that iteration by replaying the
// same arithmetic and checks that it arrives at exactly the saved lr, so a
// resumed run continues bit for bit, and a checkpoint resumed with a changed
// schedule is refused rather than silently continued.
package schedule
