package convnet

import "math"

// The attention of a non-local block, one image at a time (see nlBlock).

// attend computes image k's attention rows (b.att) and y (b.y) from t3 and
// pg: for each position r,
//
//	s[j] = theta[r] . phi[j],  att[r][j] = exp(s[j] - max s) / sum_j' exp(s[j'] - max s)
//	y[r] = sum_j att[r][j] g[j]
func (b *nlBlock[T]) attend(k int) {
	p, q, i := b.p, b.q, b.i
	t3 := b.t3[k*p*3*i:][:p*3*i]
	pg := b.pg[k*q*2*i:][:q*2*i]
	att := b.att[k*p*q:][:p*q]
	y := b.y[k*p*i:][:p*i]
	for r := 0; r < p; r++ {
		th := t3[r*3*i:][:i]
		row := att[r*q:][:q]
		mx := T(math.Inf(-1))
		for j := range row {
			s := dot(th, pg[j*2*i:][:i])
			row[j] = s
			mx = max(mx, s)
		}
		softmaxRow(row, mx)
		yr := y[r*i:][:i]
		clear(yr)
		for j, a := range row {
			axpy(yr, a, pg[j*2*i+i:][:i])
		}
	}
}

// attendGrad writes image k's part of b.gt3, dL/dt3, from b.gy = dL/dy
// (after attend): with ga = dL/datt,
//
//	ga[r][j]   = gy[r] . g[j]                  dL/dg[j]     = sum_r att[r][j] gy[r]
//	gs[r][j]   = att[r][j] (ga[r][j] - sum_j' att[r][j'] ga[r][j'])   (softmax)
//	dL/dtheta[r] = sum_j gs[r][j] phi[j]       dL/dphi[j]   = sum_r gs[r][j] theta[r]
//
// and the pooled phi and g gradients routed to their windows' maxima (the
// other phi and g entries of gt3 are zero). scratch holds q*2i + q values.
func (b *nlBlock[T]) attendGrad(k int, scratch []T) {
	p, q, i := b.p, b.q, b.i
	t3 := b.t3[k*p*3*i:][:p*3*i]
	gt3 := b.gt3[k*p*3*i:][:p*3*i]
	pg := b.pg[k*q*2*i:][:q*2*i]
	att := b.att[k*p*q:][:p*q]
	gy := b.gy[k*p*i:][:p*i]
	gpg := scratch[:q*2*i]
	ga := scratch[q*2*i:][:q]
	clear(gpg)
	for r := 0; r < p; r++ {
		gyr := gy[r*i:][:i]
		row := att[r*q:][:q]
		var s T
		for j, a := range row {
			v := dot(gyr, pg[j*2*i+i:][:i])
			ga[j] = v
			s += a * v
			axpy(gpg[j*2*i+i:][:i], a, gyr)
		}
		th := t3[r*3*i:][:i]
		gth := gt3[r*3*i:][:3*i]
		clear(gth)
		for j, a := range row {
			gs := a * (ga[j] - s)
			axpy(gth[:i], gs, pg[j*2*i:][:i])
			axpy(gpg[j*2*i:][:i], gs, th)
		}
	}
	for j, v := range gpg {
		b.gt3[b.pidx[k*q*2*i+j]] = v
	}
}

// softmaxRow replaces the scores in row by their softmax; mx is their
// maximum.
func softmaxRow[T float](row []T, mx T) {
	var sum float64
	for j, s := range row {
		e := math.Exp(float64(s - mx))
		row[j] = T(e)
		sum += e
	}
	inv := T(1 / sum)
	for j := range row {
		row[j] *= inv
	}
}

// dot returns the dot product of a and b (len(a) values).
func dot[T float](a, b []T) T {
	b = b[:len(a)]
	var s T
	for j, v := range a {
		s += v * b[j]
	}
	return s
}

// axpy adds a*x to y.
func axpy[T float](y []T, a T, x []T) {
	x = x[:len(y)]
	for j, v := range x {
		y[j] += a * v
	}
}
