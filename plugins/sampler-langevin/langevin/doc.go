// Package langevin is ebmflow's Langevin sampler stage (plugin
// ebmflow-plugin-sampler-langevin). It draws negative samples from an energy
// stage reached through sdk.EnergyLink.
//
// # Update
//
// With the energy scaled as U = F/(eps^2/2) (paper appendix, 1A), one
// unadjusted Langevin step is (appendix, 2A)
//
//	x' = x - dF/dx(x) + eps*z,   z ~ N(0, I),
//
// repeated L times. There is no clamping of x.
//
// With mala = true each step is a Metropolis-adjusted Langevin (MALA) step:
// the proposal x' = x - (eps^2/2) grad U(x) + eps*p = x - dF/dx(x) + eps*p,
// p ~ N(0, I), is accepted per chain with probability
// min(1, exp(H(x, p) - H(x', p'))), where H = U + |p|^2/2 and
// p' = p - (eps/2)(grad U(x) + grad U(x')). MALA leaves exp(-U) exactly
// invariant; the unadjusted update does not.
//
// # Drift magnitude r_t
//
// Sample returns
//
//	r_t = (1/L) sum_{l=0}^{L-1} (1/n) sum_i |dF/dx(X_i^(l))|_2,
//
// the mean over the L steps of the batch-mean per-sample L2 norm of dF/dx,
// taken at the state X^(l) each update starts from. This is L terms, as in the
// authors' reference code; the appendix writes 1/(L+1) and a sum over
// l = 0..L, which would need one extra gradient call at the final state. Under
// MALA the gradient is the one at the current (accepted) state of each chain.
// When a request asks for a trace, Trace[l] holds the mean F and the batch-mean
// |dF/dx| at X^(l), the state after l steps (the one step l+1 starts from), so
// the mean of the DriftNorm column is r_t.
//
// # Initial state
//
// init selects where the chains start: "uniform" (uniform in
// [-init_scale, init_scale]), "gaussian" (N(0, init_scale^2)), "data" (a
// batch from the linked data stage, drawn on stream "sampler:STAGE", data
// noise included) or "persistent" (chains drawn without replacement from a
// bank of bank_size chains, noise-initialised uniform in
// [-init_scale, init_scale], written back after sampling unless the request
// sets LeaveBank). A drawn persistent chain is re-initialised from the same
// uniform noise with probability reinit_prob (IGEBM and JEM use 0.05; the
// paper's reference never re-initialises).
//
// # Randomness and state
//
// Every random draw (initial noise, bank permutation, re-initialisation,
// Langevin noise, MALA momenta and acceptance) of the training loop (a
// request with an empty Stream) comes from one sdk.Stream named "langevin"
// derived from the stage seed. A request naming a consumer in
// SampleRequest.Stream (a diagnostics stage uses "diag:STAGE") draws
// everything from its own stream "langevin:NAME", so however often a
// consumer samples, the training loop's draws are unchanged. A named
// consumer never writes to the persistent bank and never creates it: with
// init "persistent" it reads a copy of bank chains (drawn without
// replacement with its own stream, at most bank_size of them), or, before
// the training loop's first draw, starts from the noise the bank would
// hold; with init "data" it reads data stream "sampler:STAGE:NAME". When
// init is "persistent" the sampler declares the shape "bank"
// [bank_size, sample shape...] to linked stages. SaveState stores every
// stream's state, the bank (tensor "bank") and the bookkeeping counters, so
// a sampler restored with LoadState continues bit for bit.
package langevin
