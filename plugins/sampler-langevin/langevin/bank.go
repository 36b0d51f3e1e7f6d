package langevin

import "github.com/ebmflow/ebmflow/sdk"

// ensureBank allocates the persistent bank on first use and fills it with
// uniform noise on [-init_scale, init_scale] from the training stream.
func (s *Plugin) ensureBank() {
	if s.bank != nil {
		return
	}
	s.bank = sdk.NewTensor(s.p.DType, append([]int{s.p.BankSize}, s.p.Shape...)...)
	s.uniformFill(s.rng, s.bank, 0, s.bank.Len())
}

// drawBank draws, with rng, n = x.Batch() distinct bank chains uniformly at random (the
// first n entries of a partial Fisher-Yates shuffle of 0..bank_size-1) and
// copies them into x. Each drawn chain is, with probability reinit_prob,
// replaced in x by fresh uniform noise. It returns the indices drawn and the
// number re-initialised.
func (s *Plugin) drawBank(rng *sdk.Stream, x *sdk.Tensor) (idx []int, reinits int) {
	s.ensureBank()
	b := s.p.BankSize
	n := x.Batch()
	d := sdk.NumElements(s.p.Shape)
	if len(s.perm) != b {
		s.perm = make([]int, b)
	}
	for i := range s.perm {
		s.perm[i] = i
	}
	for i := 0; i < n; i++ {
		j := i + rng.IntN(b-i)
		s.perm[i], s.perm[j] = s.perm[j], s.perm[i]
	}
	idx = append([]int(nil), s.perm[:n]...)
	for i, k := range idx {
		if s.p.ReinitProb > 0 && rng.Float64() < s.p.ReinitProb {
			s.uniformFill(rng, x, i*d, (i+1)*d)
			reinits++
			continue
		}
		copyRows(x, i, s.bank, k, d)
	}
	return idx, reinits
}

// writeBack stores row i of x into bank chain idx[i].
func (s *Plugin) writeBack(x *sdk.Tensor, idx []int) {
	d := sdk.NumElements(s.p.Shape)
	for i, k := range idx {
		copyRows(s.bank, k, x, i, d)
	}
}

// copyRows copies row si of src into row di of dst; rows have d elements and
// both tensors have the same dtype.
func copyRows(dst *sdk.Tensor, di int, src *sdk.Tensor, si, d int) {
	if dst.DType == sdk.Float32 {
		copy(dst.F32[di*d:(di+1)*d], src.F32[si*d:(si+1)*d])
		return
	}
	copy(dst.F64[di*d:(di+1)*d], src.F64[si*d:(si+1)*d])
}
