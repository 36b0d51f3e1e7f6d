package convnet

// Max-pooling 2x2 with stride 2 on NHWC maps, and the layout changes the
// nonlocal net needs around its linear layers.

// maxPool2 writes the 2x2, stride-2 max-pooling of channels [c0, c0+nc) of
// images [n0, n1) of src (NHWC, images of s x s pixels with cs channels)
// into dst (images of s/2 x s/2 pixels with nc channels), and into idx the
// index in src of each window's maximum: the first in row-major order on
// ties, as PyTorch's.
func maxPool2[T float](src []T, s, cs, c0, nc int, dst []T, idx []int32, n0, n1 int) {
	h := s / 2
	for n := n0; n < n1; n++ {
		for oy := 0; oy < h; oy++ {
			for ox := 0; ox < h; ox++ {
				o := ((n*h+oy)*h + ox) * nc
				d, ix := dst[o:o+nc], idx[o:o+nc]
				k0 := ((n*s+2*oy)*s+2*ox)*cs + c0
				k1, k2 := k0+cs, k0+s*cs
				k3 := k2 + cs
				s0, s1, s2, s3 := src[k0:k0+nc], src[k1:k1+nc], src[k2:k2+nc], src[k3:k3+nc]
				for c := range d {
					// max and conditional moves: no branch on the data
					a0, a1, a2, a3 := s0[c], s1[c], s2[c], s3[c]
					k := k0
					if a1 > a0 {
						k = k1
					}
					v := max(a0, a1)
					if a2 > v {
						k = k2
					}
					v = max(v, a2)
					if a3 > v {
						k = k3
					}
					v = max(v, a3)
					k += c
					d[c], ix[c] = v, int32(k)
				}
			}
		}
	}
}

// unpoolAct is the derivative of LeakyReLU followed by maxPool2 over every
// channel, for images [n0, n1) of s x s pixels with c channels: it writes
// into gz (the shape of the conv output a) gz = dL/dz at the
// pre-activation, which is zero but at each window's maximum, where it is
// dL/dh times the LeakyReLU derivative (a > 0 ? 1 : slope). gh is dL/dh of
// the pooled map. Each window's four pixels are cleared and its maxima
// written while they are in cache.
func unpoolAct[T float](gz, gh []T, idx []int32, a []T, slope T, s, c, n0, n1 int) {
	h := s / 2
	for n := n0; n < n1; n++ {
		for oy := 0; oy < h; oy++ {
			for ox := 0; ox < h; ox++ {
				o := ((n*h+oy)*h + ox) * c
				k0 := ((n*s+2*oy)*s + 2*ox) * c
				k2 := k0 + s*c
				clear(gz[k0 : k0+2*c])
				clear(gz[k2 : k2+2*c])
				for j, i := range idx[o : o+c] {
					g := gh[o+j]
					if !(a[i] > 0) {
						g *= slope
					}
					gz[i] = g
				}
			}
		}
	}
}

// toNCHW writes images [n0, n1) of h (NHWC, q positions and c channels
// each) into flat in NCHW order, the order of PyTorch's view(n, -1).
func toNCHW[T float](flat, h []T, q, c, n0, n1 int) {
	for n := n0; n < n1; n++ {
		src, dst := h[n*q*c:(n+1)*q*c], flat[n*q*c:(n+1)*q*c]
		for p := 0; p < q; p++ {
			for ch, v := range src[p*c : (p+1)*c] {
				dst[ch*q+p] = v
			}
		}
	}
}

// fromNCHW is the inverse of toNCHW.
func fromNCHW[T float](h, flat []T, q, c, n0, n1 int) {
	for n := n0; n < n1; n++ {
		src, dst := flat[n*q*c:(n+1)*q*c], h[n*q*c:(n+1)*q*c]
		for p := 0; p < q; p++ {
			row := dst[p*c : (p+1)*c]
			for ch := range row {
				row[ch] = src[ch*q+p]
			}
		}
	}
}
