// Package toy holds the 2-D toy distributions of the paper's toy experiments,
// with exact samples and exact log-densities:
//
//   - gmm: 8 equal Gaussians with sd 0.15 whose means sit on the unit circle
//     at angles 2*pi*k/8;
//   - rings: 4 rings, ring k at radius k (k = 1..4) with radial profile
//     N(k, 0.15^2) and uniform angle, in equal proportion.
//
// Both implement Set. Samplers take a *rand.Rand (an sdk.Stream embeds one),
// so the caller owns the random stream and its saved state.
package toy
