"""The nets of energy-convnet in PyTorch, with its parameter names, its
initialisation (the same draws from the same seeded stream) and its
updates (SGD and Adam with the same per-element float64 arithmetic)."""

import math

import torch
import torch.nn.functional as F


def vanilla_layers(nc, nf, size):
    """The VanillaNet's convolutions as (name, in, out, k, stride, pad).

    Conv(nc->nf, 3, s1, p1), Conv(nf->2nf, 4, s2, p1), Conv(2nf->4nf, 4, s2,
    p1), Conv(4nf->8nf, 4, s2, p1), Conv(8nf->1, k, s1, p0) with k the side
    left (4 for 32x32 input, 3 for 28x28)."""
    if size not in (28, 32):
        raise ValueError("vanilla net: image size %d not supported (32 or 28)" % size)
    specs = [(nc, nf, 3, 1, 1), (nf, 2 * nf, 4, 2, 1), (2 * nf, 4 * nf, 4, 2, 1), (4 * nf, 8 * nf, 4, 2, 1), (8 * nf, 1, 0, 1, 0)]
    out, s = [], size
    for i, (cin, cout, k, st, p) in enumerate(specs):
        k = k or s
        out.append(("f.%d" % (2 * i), cin, cout, k, st, p))
        s = (s + 2 * p - k) // st + 1
    return out


TOY_DIMS = [2, 32, 64, 64, 64, 1]


class Net:
    """A net's parameters in state_dict order (f.0.weight, f.0.bias, ...)
    and its forward pass F(x) per sample."""

    def __init__(self, kind, channels, size, nf, slope, dtype, device):
        self.kind, self.slope = kind, slope
        self.layers = []  # (name, weight shape, fan_in, conv stride, conv pad) ; stride None: linear
        if kind == "toy":
            for i in range(len(TOY_DIMS) - 1):
                self.layers.append(("f.%d" % (2 * i), (TOY_DIMS[i + 1], TOY_DIMS[i]), TOY_DIMS[i], None, None))
            self.input = [2]
        else:
            for name, cin, cout, k, st, p in vanilla_layers(channels, nf, size):
                self.layers.append((name, (cout, cin, k, k), cin * k * k, st, p))
            self.input = [channels, size, size]
        self.params = []
        for name, shape, _, _, _ in self.layers:
            self.params.append((name + ".weight", torch.zeros(shape, dtype=dtype, device=device)))
            self.params.append((name + ".bias", torch.zeros(shape[0], dtype=dtype, device=device)))

    def init(self, stream):
        """PyTorch's default initialisation drawn as energy-convnet draws it:
        U(-b, b), b = 1/sqrt(fan_in), layer by layer, weight (row-major)
        before bias, u = -b + 2b*U with U from stream.float64()."""
        for i, (_, shape, fan_in, _, _) in enumerate(self.layers):
            b = 1 / math.sqrt(fan_in)
            for _, p in self.params[2 * i:2 * i + 2]:
                u = torch.tensor(stream.floats(p.numel()), dtype=torch.float64)
                p.copy_((-b + (2 * b) * u).reshape(p.shape))

    def forward(self, x):
        """F(x), shape [n]."""
        h = x
        last = len(self.layers) - 1
        for i, (_, _, _, stride, pad) in enumerate(self.layers):
            w, b = self.params[2 * i][1], self.params[2 * i + 1][1]
            h = F.linear(h, w, b) if stride is None else F.conv2d(h, w, b, stride=stride, padding=pad)
            if i < last:
                h = F.leaky_relu(h, self.slope)
        return h.reshape(h.shape[0])

    def numel(self):
        """The number of learnable values."""
        return sum(p.numel() for _, p in self.params)


def sgd_step(params, grads, lr):
    """theta <- theta - lr*g, in float64, rounded to the parameter's dtype."""
    for (_, p), g in zip(params, grads):
        p.copy_(p.double() - lr * g.double())


class Adam:
    """PyTorch's Adam (no weight decay, no amsgrad) on g = scale*raw, with
    the moments in the parameters' dtype and each element's arithmetic in
    float64, as energy-convnet does it."""

    def __init__(self, params, beta1, beta2, eps):
        self.beta1, self.beta2, self.eps, self.step = beta1, beta2, eps, 0
        self.m = [torch.zeros_like(p) for _, p in params]
        self.v = [torch.zeros_like(p) for _, p in params]

    def step_all(self, params, grads, scale, lr):
        self.step += 1
        b1, b2 = self.beta1, self.beta2
        bc1 = 1 - b1 ** self.step
        bc2 = 1 - b2 ** self.step
        step, sq2 = lr / bc1, math.sqrt(bc2)
        for (_, p), raw, m, v in zip(params, grads, self.m, self.v):
            g = scale * raw.double()
            m.copy_(b1 * m.double() + (1 - b1) * g)
            v.copy_(b2 * v.double() + (1 - b2) * g * g)
            denom = torch.sqrt(v.double()) / sq2 + self.eps
            p.copy_(p.double() - step * m.double() / denom)
