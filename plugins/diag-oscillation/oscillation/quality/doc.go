// Package quality measures how far a set of image samples is from held-out
// data, for images whose pixels lie in [-1, 1] (MNIST as data-mnist serves
// it). It is shared by the diagnostics stage and `ebmflow sample`.
//
// # Kernel MMD
//
// A sample is a point of R^d, d the number of pixels. With the Gaussian
// kernel
//
//	k(x, y) = exp(-||x - y||^2 / (2 s2)),
//
// where the bandwidth s2 is fixed once from the reference set A = {a_i}
// (the median heuristic): s2 = median of ||a_i - a_j||^2 over all pairs
// i < j (the mean of the two middle values for an even number of pairs),
// the squared maximum mean discrepancy between samples X = {x_1..x_m} and A
// = {a_1..a_n} is estimated without bias (Gretton et al. 2012, eq. 3):
//
//	MMD2_u(X, A) = 1/(m(m-1)) sum_{i!=j} k(x_i, x_j)
//	             + 1/(n(n-1)) sum_{i!=j} k(a_i, a_j)
//	             - 2/(mn)     sum_{i,j}  k(x_i, a_j).
//
// It is 0 in expectation when X and A come from the same distribution (so a
// single value can be negative) and larger the further apart they are; it is
// at most 2. Its noise floor (Floor) is MMD2_u(B_r, A) for held-out sets B_r
// of m examples disjoint from A and from each other: the value a perfect
// sampler would show, spread by sampling noise alone; Floor reports their
// mean and standard deviation.
//
// # Saturation
//
// Saturated is the fraction of pixel values v of a set with |v| >= SatLevel
// (0.99), that is at or beyond either end of the data range [-1, 1] (NaN
// counts as saturated); Beyond is the fraction with |v| > 1 (outside the
// range; NaN counts too). MNIST scaled to [-1, 1] has most of its pixels at
// -1 (background) and some at +1 (full ink), so its own Saturated, the
// reference line, is far from 0; its Beyond is 0 without data noise.
// Long-run samples of a non-convergent model oversaturate: Saturated climbs
// above MNIST's and Beyond above 0.
package quality
