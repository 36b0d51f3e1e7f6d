"""PyTorch twin of energy-convnet's nonlocal net, for TestNonlocalMatchesTorch.

Defines the NonlocalNet of the EBM-anatomy paper (convs with max-pooling and
non-local blocks, then two linear layers) with the same state_dict names as
the reference implementation, loads weights from a JSON request, and answers
F(x), dF/dx of sum_i F(x_i) and the weight gradients of sum_i c_i F(x_i).

usage: python3 nonlocal_torch.py REQUEST.json RESPONSE.json [REQUEST.json RESPONSE.json ...]

REQUEST: {"dtype": "float64"|"float32", "channels": n_c, "n_f": n_f,
          "slope": s, "weights": {name: {"shape": [...], "data": [...]}},
          "x": {"shape": [...], "data": [...]}, "coef": [...]}
RESPONSE: {"f": [...], "dfdx": [...], "grads": {name: [...]}, "names": [...]}
Exits with status 3 when torch cannot be imported.
"""
import json
import sys

try:
    import torch
    from torch import nn
except ImportError as e:  # the Go test skips on exit status 3
    print("no torch: %s" % e)
    sys.exit(3)


class Block(nn.Module):
    """Non-local block: z = W(softmax(theta phi^T) g) + x, phi and g pooled."""

    def __init__(self, c):
        super().__init__()
        self.inner = max(1, c // 2)
        i = self.inner
        # registration order fixes the state_dict order: g, W, theta, phi
        self.g = nn.Sequential(nn.Conv2d(c, i, 1), nn.MaxPool2d(2))
        self.W = nn.Conv2d(i, c, 1)
        self.theta = nn.Conv2d(c, i, 1)
        self.phi = nn.Sequential(nn.Conv2d(c, i, 1), nn.MaxPool2d(2))

    def forward(self, x):
        n, _, h, w = x.shape
        th = self.theta(x).flatten(2).transpose(1, 2)   # [n, hw, i]
        ph = self.phi(x).flatten(2)                     # [n, i, hw/4]
        gg = self.g(x).flatten(2).transpose(1, 2)       # [n, hw/4, i]
        att = torch.softmax(th @ ph, dim=-1)            # [n, hw, hw/4]
        y = (att @ gg).transpose(1, 2).reshape(n, self.inner, h, w)
        return self.W(y) + x


class Net(nn.Module):
    def __init__(self, nc, nf, slope):
        super().__init__()
        act = lambda: nn.LeakyReLU(slope)
        self.convs = nn.Sequential(
            nn.Conv2d(nc, nf, 3, 1, 1), act(), nn.MaxPool2d(2),
            Block(nf),
            nn.Conv2d(nf, 2 * nf, 3, 1, 1), act(), nn.MaxPool2d(2),
            Block(2 * nf),
            nn.Conv2d(2 * nf, 4 * nf, 3, 1, 1), act(), nn.MaxPool2d(2))
        self.fc = nn.Sequential(nn.Linear(4 * nf * 16, 8 * nf), act(), nn.Linear(8 * nf, 1))

    def forward(self, x):
        return self.fc(self.convs(x).reshape(x.shape[0], -1)).reshape(-1)


def tensor(d, dtype):
    return torch.tensor(d["data"], dtype=dtype).reshape(d["shape"])


def main():
    args = sys.argv[1:]
    torch.set_num_threads(1)
    for k in range(0, len(args), 2):
        answer(args[k], args[k + 1])


def answer(request, response):
    with open(request) as f:
        req = json.load(f)
    dtype = torch.float64 if req["dtype"] == "float64" else torch.float32
    net = Net(req["channels"], req["n_f"], req["slope"]).to(dtype)
    state = {k: tensor(v, dtype) for k, v in req["weights"].items()}
    net.load_state_dict(state, strict=True)  # the names must match exactly
    x = tensor(req["x"], dtype).requires_grad_(True)
    f = net(x)
    dfdx, = torch.autograd.grad(f.sum(), x)
    coef = torch.tensor(req["coef"], dtype=dtype)
    net.zero_grad()
    (net(x.detach()) * coef).sum().backward()
    out = {"f": f.detach().tolist(), "dfdx": dfdx.flatten().tolist(),
           "grads": {k: p.grad.flatten().tolist() for k, p in net.named_parameters()},
           "names": list(net.state_dict().keys())}
    with open(response, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
