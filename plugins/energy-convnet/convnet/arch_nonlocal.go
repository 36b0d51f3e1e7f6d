package convnet

import "fmt"

// Indices of the layers of a non-local block, relative to its first layer,
// in the order of the reference's state_dict (NonLocalBlock registers g,
// then W, then theta, then phi).
const (
	nlG = iota
	nlW
	nlTheta
	nlPhi
	nlLayers
)

// Indices in nonlocalArch's Layers of the layers the net's passes address.
const (
	nlConv0  = 0                 // convs.0
	nlBlock1 = 1                 // convs.3.*: nlLayers layers
	nlConv4  = nlBlock1 + 4      // convs.4
	nlBlock2 = nlConv4 + 1       // convs.7.*
	nlConv8  = nlBlock2 + 4      // convs.8
	nlFC0    = nlConv8 + 1       // fc.0
	nlFC2    = nlFC0 + 1         // fc.2
	nlCount  = nlFC2 + 1         // layers in all
	nlSize   = 32                // the only input side the net accepts
	nlFinal  = nlSize / 8        // side of the last map, flattened into fc.0
	nlFlat   = nlFinal * nlFinal // positions of the last map
)

// nonlocalArch returns the reference NonlocalNet(n_c = nc, n_f = nf) for
// 32x32 inputs. Its structure (nn.Sequential convs, then fc) is
//
//	convs.0  Conv(nc->nf, 3x3, s1, p1), LeakyReLU, MaxPool 2x2   32 -> 16
//	convs.3  NonLocalBlock(nf)                                  16x16
//	convs.4  Conv(nf->2nf, 3x3, s1, p1), LeakyReLU, MaxPool     16 -> 8
//	convs.7  NonLocalBlock(2nf)                                 8x8
//	convs.8  Conv(2nf->4nf, 3x3, s1, p1), LeakyReLU, MaxPool    8 -> 4
//	fc.0     Linear(4nf*4*4 -> 8nf), LeakyReLU   (input: the map flattened NCHW)
//	fc.2     Linear(8nf -> 1)
//
// and NonLocalBlock(C), with I = max(1, C/2) channels inside, maps x to
//
//	theta = Conv1x1(C->I)(x), phi = MaxPool(Conv1x1(C->I)(x)), g = MaxPool(Conv1x1(C->I)(x))
//	y = softmax_rows(theta phi^T) g      per image: [HW, I] [I, HW/4] [HW/4, I]
//	z = Conv1x1(I->C)(y) + x             (W, whose weights start at zero)
//
// Layers lists the learnable layers in state_dict order: convs.0, the
// block's g.0, W, theta and phi.0 (convs.3.g.0 ...), convs.4, the second
// block (convs.7.*), convs.8, fc.0, fc.2. Every conv and linear layer has a
// bias.
func nonlocalArch(nc, nf, size int) (arch, error) {
	if size != nlSize {
		return arch{}, fmt.Errorf("nonlocal net: image size %d not supported (32 only: fc.0 takes a 4x4 map)", size)
	}
	a := arch{Net: "nonlocal", Input: []int{nc, size, size}}
	conv := func(name string, in, out, s int) layer {
		return layer{Kind: convLayer, In: in, Out: out, K: 3, Stride: 1, Pad: 1, InSize: s, OutSize: s, Name: name}
	}
	block := func(prefix string, c, s int) []layer {
		i := max(1, c/2)
		one := func(name string, in, out int) layer {
			return layer{Kind: convLayer, In: in, Out: out, K: 1, Stride: 1, InSize: s, OutSize: s, Name: prefix + name}
		}
		w := one(".W", i, c)
		w.Zero = true
		return []layer{one(".g.0", c, i), w, one(".theta", c, i), one(".phi.0", c, i)}
	}
	a.Layers = append(a.Layers, conv("convs.0", nc, nf, size))
	a.Layers = append(a.Layers, block("convs.3", nf, size/2)...)
	a.Layers = append(a.Layers, conv("convs.4", nf, 2*nf, size/2))
	a.Layers = append(a.Layers, block("convs.7", 2*nf, size/4)...)
	a.Layers = append(a.Layers, conv("convs.8", 2*nf, 4*nf, size/4))
	a.Layers = append(a.Layers,
		layer{Kind: linearLayer, In: 4 * nf * nlFlat, Out: 8 * nf, Name: "fc.0"},
		layer{Kind: linearLayer, In: 8 * nf, Out: 1, Name: "fc.2"})
	if len(a.Layers) != nlCount {
		return arch{}, fmt.Errorf("nonlocal net: %d layers, want %d", len(a.Layers), nlCount)
	}
	return a, nil
}
