"""PyTorch twin of ebmflow's energy-convnet benchmark (bench/convnet).

Builds the same nets as the plugin (VanillaNet or NonlocalNet with LeakyReLU
0.05, or the 2-D toy MLP), with PyTorch's default initialisation, and measures, like the Go
child process, dF/dx image-steps/s (F and the input gradient of sum_i F(x_i))
and updates/s (one SGD step on mean F(x+) - mean F(x-) with n positives and n
negatives), then prints one JSON line including the peak RSS. Run by
`go run ./bench/convnet`; it installs nothing.

usage: python3 torch_bench.py NET SIZE NF BATCH SECONDS THREADS
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn


def vanilla(nc, nf, size, slope=0.05):
    last = 4 if size == 32 else 3
    return nn.Sequential(
        nn.Conv2d(nc, nf, 3, 1, 1), nn.LeakyReLU(slope),
        nn.Conv2d(nf, 2 * nf, 4, 2, 1), nn.LeakyReLU(slope),
        nn.Conv2d(2 * nf, 4 * nf, 4, 2, 1), nn.LeakyReLU(slope),
        nn.Conv2d(4 * nf, 8 * nf, 4, 2, 1), nn.LeakyReLU(slope),
        nn.Conv2d(8 * nf, 1, last, 1, 0))


class NonLocal(nn.Module):
    """Non-local block: z = W(softmax(theta phi^T) g) + x, phi and g pooled 2x2."""

    def __init__(self, c):
        super().__init__()
        self.inner = i = max(1, c // 2)
        self.g = nn.Sequential(nn.Conv2d(c, i, 1), nn.MaxPool2d(2))
        self.W = nn.Conv2d(i, c, 1)
        nn.init.zeros_(self.W.weight)
        nn.init.zeros_(self.W.bias)
        self.theta = nn.Conv2d(c, i, 1)
        self.phi = nn.Sequential(nn.Conv2d(c, i, 1), nn.MaxPool2d(2))

    def forward(self, x):
        n, _, h, w = x.shape
        th = self.theta(x).flatten(2).transpose(1, 2)
        ph = self.phi(x).flatten(2)
        gg = self.g(x).flatten(2).transpose(1, 2)
        y = (torch.softmax(th @ ph, dim=-1) @ gg).transpose(1, 2).reshape(n, self.inner, h, w)
        return self.W(y) + x


class NonlocalNet(nn.Module):
    def __init__(self, nc, nf, slope=0.05):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(nc, nf, 3, 1, 1), nn.LeakyReLU(slope), nn.MaxPool2d(2), NonLocal(nf),
            nn.Conv2d(nf, 2 * nf, 3, 1, 1), nn.LeakyReLU(slope), nn.MaxPool2d(2), NonLocal(2 * nf),
            nn.Conv2d(2 * nf, 4 * nf, 3, 1, 1), nn.LeakyReLU(slope), nn.MaxPool2d(2))
        self.fc = nn.Sequential(nn.Linear(4 * nf * 16, 8 * nf), nn.LeakyReLU(slope), nn.Linear(8 * nf, 1))

    def forward(self, x):
        return self.fc(self.convs(x).reshape(x.shape[0], -1))


def toy(slope=0.05):
    dims = [2, 32, 64, 64, 64, 1]
    layers = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i + 2 < len(dims):
            layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


def timed(fn, n, seconds):
    """Calls per second of wall time and of the process's CPU time."""
    fn()  # warm up
    calls, start, cpu0 = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        calls += 1
        el = time.perf_counter() - start
        if el >= seconds and calls >= 3:
            return calls / el, calls / (time.process_time() - cpu0)


def main():
    net, size, nf, batch, seconds, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    if net == "toy":
        f = toy()
        shape = (batch, 2)
    elif net == "nonlocal":
        f = NonlocalNet(1, nf)
        shape = (batch, 1, size, size)
    else:
        f = vanilla(1, nf, size)
        shape = (batch, 1, size, size)
    x = torch.rand(shape) * 2 - 1
    pos = torch.rand(shape) * 2 - 1

    def grad():
        xx = x.detach().requires_grad_(True)
        e = f(xx).view(-1)
        g, = torch.autograd.grad(e.sum(), xx)
        return e, g

    opt = torch.optim.SGD(f.parameters(), lr=1e-6)

    def update():
        opt.zero_grad()
        loss = f(pos).mean() - f(x).mean()
        loss.backward()
        opt.step()

    gps, gcpu = timed(grad, batch, seconds)
    ups, _ = timed(update, batch, seconds)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"grad_images_per_s": gps * batch, "grad_images_per_cpu_s": gcpu * batch, "updates_per_s": ups, "peak_rss_bytes": rss,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
