package convnet

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graphKind says what a compiled graph computes.
type graphKind int

const (
	// kindEnergy computes F(x) only.
	kindEnergy graphKind = iota
	// kindGrad computes F(x) and dF/dx of sum_i F(x_i), i.e. the per-sample
	// input gradients; no weight gradient is built.
	kindGrad
	// kindUpdate computes F(x) and the weight gradients of sum_i c_i F(x_i)
	// for a coefficient vector c set per call.
	kindUpdate
)

func (k graphKind) String() string {
	return [...]string{"energy", "grad", "update"}[k]
}

// graphKey identifies a cached graph: gorgonia graphs have static shapes, so
// one is compiled per kind and batch size.
type graphKey struct {
	kind graphKind
	n    int
}

// compiled is a gorgonia graph with its tape machine and the buffers that
// cross its boundary. The input and coefficient buffers are bound to the input
// nodes once; each call copies into them. Outputs are copied by Read nodes into
// the preallocated output buffers, so results survive the machine's register
// reuse and no output is allocated per call.
type compiled struct {
	g    *G.ExprGraph
	vm   G.VM
	work *opBuffers // the kernels' workspace, whose epoch each run advances

	x    *tensor.Dense // input batch, bound to the x node
	coef *tensor.Dense // per-sample coefficients c (kindUpdate)

	f     G.Value   // F per sample [n], written by a Read node
	dfdx  G.Value   // dF/dx, shape of x (kindGrad)
	grads []G.Value // weight gradients in parameter order (kindUpdate)
}

// compile builds the graph of the given kind for a batch of n samples.
//
// work is the kernels' workspace, shared by every graph of a plugin.
func compile(k graphKind, n int, a arch, ps []param, slope float64, dt tensor.Dtype, work *opBuffers) (*compiled, error) {
	g := G.NewGraph()
	c := &compiled{g: g, work: work}
	shape := append([]int{n}, a.Input...)
	c.x = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	x := G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName("x"), G.WithValue(c.x))

	nodes := make([]*G.Node, len(ps))
	for i, p := range ps {
		nodes[i] = G.NewTensor(g, dt, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(p.Value))
	}
	f, err := forward(a, x, nodes, slope, work)
	if err != nil {
		return nil, fmt.Errorf("%v graph, batch %d: %w", k, n, err)
	}
	c.f = tensor.New(tensor.Of(dt), tensor.WithShape(n))
	inputs := append(G.Nodes{x}, nodes...)
	outputs := G.Nodes{G.Read(f, &c.f)}

	switch k {
	case kindGrad:
		cost, err := G.Sum(f)
		if err != nil {
			return nil, fmt.Errorf("grad graph, batch %d: sum: %w", n, err)
		}
		gs, err := G.Grad(cost, x)
		if err != nil {
			return nil, fmt.Errorf("grad graph, batch %d: differentiate: %w", n, err)
		}
		c.dfdx = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
		outputs = append(outputs, G.Read(gs[0], &c.dfdx))
	case kindUpdate:
		c.coef = tensor.New(tensor.Of(dt), tensor.WithShape(n))
		cn := G.NewVector(g, dt, G.WithShape(n), G.WithName("c"), G.WithValue(c.coef))
		inputs = append(inputs, cn)
		wf, err := G.HadamardProd(f, cn)
		if err != nil {
			return nil, fmt.Errorf("update graph, batch %d: weight: %w", n, err)
		}
		cost, err := G.Sum(wf)
		if err != nil {
			return nil, fmt.Errorf("update graph, batch %d: sum: %w", n, err)
		}
		gs, err := G.Grad(cost, nodes...)
		if err != nil {
			return nil, fmt.Errorf("update graph, batch %d: differentiate: %w", n, err)
		}
		c.grads = make([]G.Value, len(gs))
		for i, gn := range gs {
			c.grads[i] = tensor.New(tensor.Of(dt), tensor.WithShape(ps[i].Shape...))
			outputs = append(outputs, G.Read(gn, &c.grads[i]))
		}
	}
	// Compile only what the outputs need: gorgonia's symbolic differentiation
	// adds the derivatives of every operand of an active op, so the grad graph
	// also holds the (unused) filter gradients, which cost a third of the run.
	prog, locs, err := G.CompileFunction(g, inputs, outputs)
	if err != nil {
		return nil, fmt.Errorf("%v graph, batch %d: compile: %w", k, n, err)
	}
	c.vm = G.NewTapeMachine(g, G.WithPrecompiled(prog, locs))
	return c, nil
}

// run executes the graph once on the current contents of c.x (and c.coef).
// Reset rewinds the tape and drops its registers, so gorgonia allocates the
// intermediate tensors again on every run; the input, coefficient and output
// buffers are reused.
func (c *compiled) run() error {
	c.work.epoch++
	c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		return fmt.Errorf("run graph: %w", err)
	}
	return nil
}

// forward builds F(x) of shape [n]: one convOp per layer (convolution or
// linear map, bias and, but for the last layer, LeakyReLU(slope)). nodes
// holds weight and bias nodes in parameter order.
func forward(a arch, x *G.Node, nodes []*G.Node, slope float64, work *opBuffers) (*G.Node, error) {
	h := x
	n := x.Shape()[0]
	last := len(a.Layers) - 1
	for i, l := range a.Layers {
		op := newConvOp(l, i == 0, i != last, slope, x.Dtype(), n, work)
		// every layer but the last has the LeakyReLU: each layer's input
		// derivative applies the derivative of the one before
		op.inAct, op.gzIn = i > 0, i != last
		var err error
		if h, err = G.ApplyOp(op, h, nodes[2*i], nodes[2*i+1]); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
	}
	if !h.Shape().Eq(tensor.Shape{n}) {
		return nil, fmt.Errorf("output shape %v, want one value per sample", h.Shape())
	}
	return h, nil
}
