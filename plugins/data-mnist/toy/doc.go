// Package toy holds the 2-D toy distributions of the paper's toy experiments,
// with exact samples and exact log-densities:
//
//   - gmm: 8 equal Gaussians with sd 0.15 whose means sit on the unit circle
//     at angles 2*pi*k/8;
//   - rings: 4 rings, ring k at radius k (k = 1..4) with radial profile
//     N(k, 0.15^2) and uniform angle, in equal proportion;
//
// and two degenerate sets for appendix C's toy analogue (learning without
// data noise on data of lower dimension), which have no density in the
// plane:
//
//   - points: the gmm's 8 means with sd 0, a finite point set;
//   - segment: x uniform on [-1, 1], y = 0, one constant coordinate.
//
// All implement Set; gmm and rings also Dense. Samplers take a *rand.Rand
// (an sdk.Stream embeds one), so the caller owns the random stream and its
// saved state.
package toy
