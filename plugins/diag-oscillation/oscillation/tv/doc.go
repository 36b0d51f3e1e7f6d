// Package tv measures how far a 2-D density model is from a known density, by
// total variation on an N x N grid of cells over a plot box (one [lo, hi]
// per axis; the cells are rectangles when the box is not square).
//
// Two distances are provided. Between two densities known on the cell
// centres (the true density and an energy-based model's exp(-U)):
//
//	TV(p, q) = 0.5 * sum_c |p_c - q_c|,  p and q each normalised to sum 1.
//
// Between a sample and the true density (SampleTV): the sample's histogram
// h_c = count_c / n (n counts every sample, also those outside the box) against
// the true mass t_c of each cell, with one extra cell for "outside the box":
//
//	TV = 0.5 * (sum_c |h_c - t_c| + |h_out - t_out|).
//
// The cell masses come from a midpoint rule on a sub x sub grid inside each
// cell (CellMasses); if the rule's in-box total M exceeds 1 the masses are
// scaled by 1/M, and t_out = 1 - sum_c t_c is the true mass outside the box.
// For a density whose in-box mass is essentially 1 (the toy sets' boxes reach
// four standard deviations past the outer modes) this is
// 0.5 * sum_c |h_c - t_c| + 0.5 * h_out.
package tv
