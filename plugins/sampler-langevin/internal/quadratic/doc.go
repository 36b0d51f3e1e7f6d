// Package quadratic is a tiny energy stage for integration tests (plugin
// ebmflow-plugin-quadratic): the per-sample energy
//
//	F(x) = (a/2) |x - mu|^2,   dF/dx = a (x - mu),
//
// whose Langevin chains have known laws (see package langevin's tests). Its
// Update is a learning step that leaves mu unchanged and reports
// d_st = (2/eps^2)(mean F(x+) - mean F(x-)), the mean energies and the norm of
// the gradient a learning step would follow, d/dmu (mean F(x+) - mean F(x-))
// = a (mean x- - mean x+). SaveState saves mu as tensor "mu".
package quadratic
