package convnet

import "fmt"

// layerKind tells a convolution from a fully connected layer.
type layerKind int

const (
	convLayer layerKind = iota
	linearLayer
)

// layer describes one learnable layer of a net. For a convolution the weight
// has the PyTorch OIHW shape [Out, In, K, K] and the output spatial size is
//
//	outSize = (inSize + 2*Pad - K)/Stride + 1   (integer division)
//
// For a linear layer the weight has the PyTorch shape [Out, In]. Every layer
// but the last is followed by LeakyReLU.
type layer struct {
	Kind            layerKind
	In, Out         int
	K, Stride, Pad  int
	InSize, OutSize int // spatial sizes (convolutions only)
	Name            string
	// Zero says that the layer starts with zero weights and biases rather
	// than PyTorch's default draw (the non-local blocks' output maps W).
	Zero bool
}

// weightShape returns the PyTorch weight shape.
func (l layer) weightShape() []int {
	if l.Kind == convLayer {
		return []int{l.Out, l.In, l.K, l.K}
	}
	return []int{l.Out, l.In}
}

// fanIn returns the number of inputs of one output unit: In*K*K for a
// convolution, In for a linear layer.
func (l layer) fanIn() int {
	if l.Kind == convLayer {
		return l.In * l.K * l.K
	}
	return l.In
}

// numParams returns the number of weights and biases of the layer.
func (l layer) numParams() int {
	n := l.Out
	w := 1
	for _, d := range l.weightShape() {
		w *= d
	}
	return n + w
}

// arch is a whole net: its learnable layers in state_dict order and the
// per-sample input shape. Net names the structure that connects the
// layers ("vanilla" and "toy": a chain; "nonlocal": see nonlocalArch).
type arch struct {
	Net    string
	Layers []layer
	Input  []int
}

// numParams returns the total number of learnable values.
func (a arch) numParams() int {
	n := 0
	for _, l := range a.Layers {
		n += l.numParams()
	}
	return n
}

// vanillaArch returns the reference VanillaNet for nc channels, nf base
// filters and a square input of side size (32 or 28):
//
//	Conv(nc->nf, 3x3, s1, p1), Conv(nf->2nf, 4x4, s2, p1),
//	Conv(2nf->4nf, 4x4, s2, p1), Conv(4nf->8nf, 4x4, s2, p1),
//	Conv(8nf->1, kxk, s1, p0)
//
// Spatial sizes are 32, 32, 16, 8, 4 -> 1 (final k = 4) for 32x32 input and
// 28, 28, 14, 7, 3 -> 1 (final k = 3) for 28x28 input.
func vanillaArch(nc, nf, size int) (arch, error) {
	if size != 32 && size != 28 && size != 64 {
		return arch{}, fmt.Errorf("vanilla net: image size %d not supported (32, 28 or 64)", size)
	}
	specs := []struct{ in, out, k, s, p int }{
		{nc, nf, 3, 1, 1},
		{nf, 2 * nf, 4, 2, 1},
		{2 * nf, 4 * nf, 4, 2, 1},
		{4 * nf, 8 * nf, 4, 2, 1},
		{8 * nf, 1, 0, 1, 0}, // final kernel covers the remaining map
	}
	a := arch{Net: "vanilla", Input: []int{nc, size, size}}
	s := size
	for i, sp := range specs {
		k := sp.k
		if k == 0 {
			k = s
		}
		out := (s+2*sp.p-k)/sp.s + 1
		if out < 1 {
			return arch{}, fmt.Errorf("vanilla net: layer %d maps %dx%d to nothing", i, s, s)
		}
		a.Layers = append(a.Layers, layer{
			Kind: convLayer, In: sp.in, Out: sp.out, K: k, Stride: sp.s, Pad: sp.p,
			InSize: s, OutSize: out, Name: fmt.Sprintf("f.%d", 2*i),
		})
		s = out
	}
	if s != 1 {
		return arch{}, fmt.Errorf("vanilla net: final map is %dx%d, want 1x1", s, s)
	}
	return a, nil
}

// toyArch returns the reference ToyNet, the MLP 2->32->64->64->64->1.
func toyArch() arch {
	dims := []int{2, 32, 64, 64, 64, 1}
	a := arch{Net: "toy", Input: []int{2}}
	for i := 0; i+1 < len(dims); i++ {
		a.Layers = append(a.Layers, layer{
			Kind: linearLayer, In: dims[i], Out: dims[i+1], Name: fmt.Sprintf("f.%d", 2*i),
		})
	}
	return a
}
