// Package convnet is the energy-convnet plugin: an ebmflow energy stage
// F(x; theta) built on gorgonia, with its input gradient dF/dx for Langevin
// sampling and the maximum-likelihood weight update (SGD or Adam).
//
// # Networks
//
// net = "vanilla" is the reference VanillaNet(n_c, n_f) for square images,
// given in NCHW layout, LeakyReLU(slope) after every conv but the last:
//
//	Conv(n_c->n_f, 3x3, s1, p1)      32x32 -> 32x32   (28 -> 28)
//	Conv(n_f->2n_f, 4x4, s2, p1)     -> 16x16          (-> 14)
//	Conv(2n_f->4n_f, 4x4, s2, p1)    -> 8x8            (-> 7)
//	Conv(4n_f->8n_f, 4x4, s2, p1)    -> 4x4            (-> 3)
//	Conv(8n_f->1, 4x4, s1, p0)       -> 1x1            (3x3 kernel for 28x28, 8x8 for 64x64)
//
// It has 692,993 parameters for n_c = 1, n_f = 32 at 32x32 (691,201 at
// 28x28).
//
// net = "nonlocal" is the reference NonlocalNet(n_c, n_f), 32x32 only:
//
//	Conv(n_c->n_f, 3x3, s1, p1), LeakyReLU, MaxPool 2x2      32 -> 16
//	NonLocalBlock(n_f)                                        16x16
//	Conv(n_f->2n_f, 3x3, s1, p1), LeakyReLU, MaxPool 2x2     16 -> 8
//	NonLocalBlock(2n_f)                                       8x8
//	Conv(2n_f->4n_f, 3x3, s1, p1), LeakyReLU, MaxPool 2x2    8 -> 4
//	Linear(4n_f*16 -> 8n_f), LeakyReLU, Linear(8n_f -> 1)    (map flattened NCHW)
//
// where NonLocalBlock(C), with I = max(1, C/2), is z = W(y) + x with
// y = softmax_rows(theta(x) phi(x)^T) g(x): theta, phi and g are 1x1 convs
// C->I, phi and g followed by MaxPool 2x2 (per image [HW, I] [I, HW/4]
// [HW/4, I]), W a 1x1 conv I->C whose weights and bias start at zero. It
// has 627,953 parameters for n_c = 1, n_f = 32. net = "toy" is the MLP
// 2->32->64->64->64->1 with LeakyReLU (10,593 parameters) for 2-D data.
//
// # Attributes
//
// net ("vanilla"), channels (1), image_size (32 pixels), n_f (32), slope
// (0.05), epsilon (required; the sampler's Langevin noise, used for
// d_st = (2/eps^2)(mean F(x+) - mean F(x-))), optimizer ("sgd"), adam_beta1
// (0.9), adam_beta2 (0.999), adam_eps (1e-8), dtype ("float32"). Configure
// declares the input shape {"input": [channels, image_size, image_size]}, or
// [2] for the toy net. Inputs must have the configured dtype.
//
// # Initialisation
//
// As PyTorch's defaults for Conv2d and Linear: weights and biases from
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5) for
// the weights), drawn layer by layer in state_dict order, weight before
// bias, from the stream sdk.NewStream(seed, "init"); the non-local blocks'
// W start at zero, as the reference sets them (no draws).
//
// # Update
//
// With L = mean F(x+) - mean F(x-) and g = dL/dtheta:
//
//	sgd:  theta <- theta - lr*g                    GradNorm = ||g||
//	adam: PyTorch Adam on (2/eps^2)*g, i.e. on d_st  GradNorm = ||(2/eps^2) g||
//
// # State
//
// SaveState names tensors exactly as the reference PyTorch state_dict of the
// same net. VanillaNet and the toy net are an nn.Sequential named f,
// activations at the odd indices:
//
//	f.0.weight f.0.bias f.2.weight f.2.bias f.4.weight f.4.bias
//	f.6.weight f.6.bias f.8.weight f.8.bias
//
// NonlocalNet is nn.Sequentials convs and fc, each block's g and phi an
// nn.Sequential of the conv and its pooling (X stands for weight and bias):
//
//	convs.0.X  convs.3.g.0.X convs.3.W.X convs.3.theta.X convs.3.phi.0.X
//	convs.4.X  convs.7.g.0.X convs.7.W.X convs.7.theta.X convs.7.phi.0.X
//	convs.8.X  fc.0.X fc.2.X
//
// Conv weights are OIHW [out, in, k, k]; linear weights [out, in]. With Adam
// the moments follow as optim.exp_avg.NAME and optim.exp_avg_sq.NAME for each
// parameter NAME, in the parameters' dtype. Meta is JSON: {"format": 1,
// "settings": {...the block...}, "step": Adam steps taken, "init_stream":
// the init stream's state}. LoadState requires exactly these names, dtypes
// and shapes; a state without Meta is loaded as weights only.
//
// # Performance notes
//
// For the vanilla net, one gorgonia graph and tape machine is compiled per
// (operation, batch size) and cached (at most 8, least recently used
// dropped); gorgonia stays the autodiff engine. Each layer is one custom op
// (convOp): convolution or linear map, bias and LeakyReLU fused, whose
// symbolic derivative is three ops reading dL/dy and the layer's output:
// input, filter and bias gradients (Grad's program runs only the first,
// Update's all three). The LeakyReLU derivative gz = dL/dy * act'(y) is
// computed once per layer and run (in cache, by the input gradient's tasks,
// or by whichever op comes first), 8 lanes at a time with AVX2.
//
// Between layers activations are stored NHWC (channels innermost), while
// gorgonia sees the NCHW shapes; the net's input and its gradient stay NCHW.
// Three kinds of micro-kernel, each in Go assembly for AVX-512 and for
// AVX2+FMA (chosen at start-up through golang.org/x/sys/cpu) with a portable
// Go version (always used with the purego build tag, on other
// architectures, and for float64), compute 8x32 tiles:
//
//   - the indirect convolution (indCall): forward and input gradient read
//     the padded input or gz in place through one pointer per output
//     position, no im2col; bias and LeakyReLU are applied in registers, and
//     the input gradient adds its tiles straight into the padded gradient;
//   - the direct filter gradient (wgCall): 8 channels of one tap times 32
//     filters, reduced over the positions in place, no packing;
//   - a packed GEMM (Goto/BLIS blocking) for the shapes the first two do
//     not fit: the first layer's filter gradient (transposed, 9 taps as
//     rows) and layers whose channels or filters are not multiples of 8
//     and 32;
//   - with AVX-512, the first layer's input gradient (one channel, stride
//     1) as per-pixel dot products of the filters with gz.
//
// The assembly of the first two and of the first layer's kernel
// (ind_amd64.s) and the GEMM kernel (kernel_amd64.s) are written by
// internal/asmgen (gen_asm.go runs it): run go generate after
// changing it.
//
// Each op keeps its filters packed for its kernel until the weights change
// (Plugin.weightsChanged, called by Update and LoadState).
//
// Work is split into tasks fixed by the shapes (groups of images; groups of
// filter-gradient tiles) that run on up to GOMAXPROCS goroutines; no sum is
// split across goroutines, so results are bit-identical whatever the
// scheduling. Every op keeps its output tensor across runs and all ops share
// one workspace, so a Grad call allocates almost nothing.
//
// The nonlocal net does not use the graphs either: a dedicated path
// (nonlocal, nonlocal*.go) writes its forward pass, dF/dx and weight
// gradients out by hand on the same kernels. Its 3x3 convs, the blocks' 1x1
// convs (theta, phi and g as one conv to 3I channels) and its linear layers
// call convForward, convInputGrad and convWeightGrad on NHWC activations;
// max-pooling keeps the index of each window's maximum for the backward
// pass; the attention's six products per image (scores, y, and their
// gradients with respect to each operand) run on the indirect kernel with
// B packed in panels of 32 columns, a transposed A read as one-element
// "taps" down a column; the softmax uses a float32 exp (exp32, 3e-7
// relative). TestNonlocalMatchesTorch checks F, dF/dx and every weight
// gradient against a PyTorch definition (testdata/nonlocal_torch.py).
//
// The toy net does not use the graphs: a dedicated path (mlp, toy.go) runs
// its linear layers straight on the indirect kernel (8 samples x 32 units a
// call, bias and LeakyReLU in registers), its input gradient on the same
// kernel with the weights as B, and the update's weight gradients on the
// direct kernel reduced over the samples; with AVX-512 the last layer and
// dF/dx, one and two outputs per sample, are dot products (the first conv
// layer's input-gradient kernel) instead of 32-column tiles. Its weights are copied into the
// kernels' panels by weightsChanged. Energy and Grad of the toy net run under
// a read lock, each call with its own workspace, so they run concurrently;
// batches over 128 samples are split into tasks of 128 (a sample's
// arithmetic is the same in any task, so the bits do not depend on the
// split). TestToyMatchesGraph checks it against the graphs.
//
// docs/performance.md has measurements against PyTorch and bench/convnet the
// benchmark that produced them.
package convnet
