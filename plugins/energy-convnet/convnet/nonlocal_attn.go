package convnet

import (
	"math"
	"unsafe"
)

// The attention of a non-local block, one image at a time (see nlBlock).
// Its six matrix products run on the indirect kernel (indCall): A's rows
// are read in place through one pointer each, B is packed into panels of
// 32 columns (packPanels), and a product with a transposed A (att^T, gs^T)
// reads each A row as p "taps" of one element, a column of the row-major
// matrix.

// attnWork is one worker's scratch for the attention.
type attnWork[T float] struct {
	ga   []T // dL/datt, then dL/dscores, of one image [p*q]
	gpg  []T // dL/d(pg) of one image [q*2i]
	bp   []T // a packed B
	tmp  [indMR * indNR]T
	call indCall
}

// attend computes image k's attention rows (b.att) and y (b.y) from t3 and
// pg: for each position r,
//
//	s[j] = theta[r] . phi[j],  att[r][j] = exp(s[j] - max s) / sum_j' exp(s[j'] - max s)
//	y[r] = sum_j att[r][j] g[j]
func (b *nlBlock[T]) attend(k int, w *attnWork[T]) {
	p, q, i := b.p, b.q, b.i
	t3 := b.t3[k*p*3*i:][:p*3*i]
	pg := b.pg[k*q*2*i:][:q*2*i]
	att := b.att[k*p*q:][:p*q]
	y := b.y[k*p*i:][:p*i]
	phiT := packPanels(&w.bp, pg, i, q, 1, 2*i)
	mulInd(w, t3, 3*i, p, b.toff0, i, phiT, att, q, q)
	for r := 0; r < p; r++ {
		softmaxRow(att[r*q:][:q])
	}
	g := packPanels(&w.bp, pg[i:], q, i, 2*i, 1)
	mulInd(w, att, q, p, b.toff0, q, g, y, i, i)
}

// attendGrad writes image k's part of b.gt3, dL/dt3, from b.gy = dL/dy
// (after attend): with ga = dL/datt,
//
//	ga[r][j]   = gy[r] . g[j]                  dL/dg[j]     = sum_r att[r][j] gy[r]
//	gs[r][j]   = att[r][j] (ga[r][j] - sum_j' att[r][j'] ga[r][j'])   (softmax)
//	dL/dtheta[r] = sum_j gs[r][j] phi[j]       dL/dphi[j]   = sum_r gs[r][j] theta[r]
//
// and the pooled phi and g gradients routed to their windows' maxima (the
// other phi and g entries of gt3 are zero).
func (b *nlBlock[T]) attendGrad(k int, w *attnWork[T]) {
	p, q, i := b.p, b.q, b.i
	t3 := b.t3[k*p*3*i:][:p*3*i]
	gt3 := b.gt3[k*p*3*i:][:p*3*i]
	pg := b.pg[k*q*2*i:][:q*2*i]
	att := b.att[k*p*q:][:p*q]
	gy := b.gy[k*p*i:][:p*i]
	ga, gpg := w.ga[:p*q], w.gpg[:q*2*i]
	gT := packPanels(&w.bp, pg[i:], i, q, 1, 2*i)
	mulInd(w, gy, i, p, b.toff0, i, gT, ga, q, q)
	gyp := packPanels(&w.bp, gy, p, i, i, 1)
	mulInd(w, att, 1, q, b.toffT, 1, gyp, gpg[i:], 2*i, i)
	for r := 0; r < p; r++ {
		row, gr := att[r*q:][:q], ga[r*q:][:q]
		var s T
		for j, a := range row {
			s += a * gr[j]
		}
		for j, a := range row {
			gr[j] = a * (gr[j] - s)
		}
		clear(gt3[r*3*i+i:][:2*i])
	}
	phi := packPanels(&w.bp, pg, q, i, 2*i, 1)
	mulInd(w, ga, q, p, b.toff0, q, phi, gt3, 3*i, i)
	th := packPanels(&w.bp, t3, p, i, 3*i, 1)
	mulInd(w, ga, 1, q, b.toffT, 1, th, gpg, 2*i, i)
	off := k * q * 2 * i
	for j, v := range gpg {
		b.gt3[b.pidx[off+j]] = v
	}
}

// packPanels writes the k x n matrix M, M[kk][j] = src[kk*rs + j*cs], into
// dst as ceil(n/32) panels of k rows of 32 columns, zero past column n, and
// returns them.
func packPanels[T float](dst *[]T, src []T, k, n, rs, cs int) []T {
	np := (n + indNR - 1) / indNR
	d := grow(dst, np*k*indNR)
	for pn := 0; pn < np; pn++ {
		j0, j1 := pn*indNR, min(n, (pn+1)*indNR)
		for kk := 0; kk < k; kk++ {
			row := d[(pn*k+kk)*indNR:][:indNR]
			base := kk * rs
			for j := j0; j < j1; j++ {
				row[j-j0] = src[base+j*cs]
			}
			clear(row[j1-j0:])
		}
	}
	return d
}

// mulInd writes C = A B for the m rows of A, C's row r at c[r*ldc:][:n],
// with the indirect kernel: A(r, t, ch) is the element at byte offset
// toff[t] + ch*size from a[r*stride], B the len(toff)*nc x n matrix packed
// by packPanels. Tiles that do not fit in C (past row m or column n) go
// through w.tmp.
func mulInd[T float](w *attnWork[T], a []T, stride, m int, toff []int64, nc int, bp, c []T, ldc, n int) {
	kern := indKernelFor[T]()
	kb := len(toff) * nc * indNR // values per panel
	call := &w.call
	for pn := 0; pn*indNR < n; pn++ {
		j0 := pn * indNR
		full := j0+indNR <= n
		for r0 := 0; r0 < m; r0 += indMR {
			*call = indCall{toff: unsafe.Pointer(&toff[0]), nt: len(toff), nc: nc, b: ptr(bp, pn*kb), init: indZero}
			direct := full && r0+indMR <= m
			for r := 0; r < indMR; r++ {
				call.arow[r] = ptr(a, min(r0+r, m-1)*stride)
				if direct {
					call.crow[r] = ptr(c, (r0+r)*ldc+j0)
				} else {
					call.crow[r] = ptr(w.tmp[:], r*indNR)
				}
			}
			kern(call)
			if direct {
				continue
			}
			for r := r0; r < min(m, r0+indMR); r++ {
				copy(c[r*ldc+j0:][:min(indNR, n-j0)], w.tmp[(r-r0)*indNR:])
			}
		}
	}
}

// softmaxRow replaces the scores in row by their softmax, with exp32
// for float32.
func softmaxRow[T float](row []T) {
	if r32, ok := any(row).([]float32); ok {
		softmaxRow32(r32)
		return
	}
	mx := row[0]
	for _, s := range row {
		mx = max(mx, s)
	}
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

// softmaxRow32 is softmaxRow for float32.
func softmaxRow32(row []float32) {
	mx := row[0]
	for _, s := range row {
		mx = max(mx, s)
	}
	var sum float32
	for j, s := range row {
		e := exp32(s - mx)
		row[j] = e
		sum += e
	}
	inv := 1 / sum
	for j := range row {
		row[j] *= inv
	}
}

// exp32 returns e^x for x <= 0 to within about 3e-7 relative (0 below
// -87.3, where e^x leaves the normal float32 range): with n = x log2(e)
// rounded to an integer, e^x = 2^n e^f, f = x - n ln2 in [-ln2/2, ln2/2]
// (ln2 in two parts, so that n ln2 is exact enough), e^f a Taylor
// polynomial of degree 6 (remainder below (ln2/2)^7/7! = 1.2e-7).
func exp32(x float32) float32 {
	if x < -87.3 {
		return 0
	}
	n := float32(int32(x*math.Log2E - 0.5))
	const ln2Hi, ln2Lo = 0.693145751953125, 1.428606765330187e-06
	f := (x - n*ln2Hi) - n*ln2Lo
	p := float32(1.0 / 720)
	p = p*f + 1.0/120
	p = p*f + 1.0/24
	p = p*f + 1.0/6
	p = p*f + 0.5
	p = p*f + 1
	p = p*f + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
