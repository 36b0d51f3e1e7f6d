"""PyTorch side of ebmflow's end-to-end benchmark (bench/e2e).

Runs, in plain PyTorch, the training loop that pipelines/toy-gmm.hcl
(convergent) or pipelines/mnist-convergent.hcl does in ebmflow, with the same
work per iteration, and prints one JSON line with the seconds per iteration
after the warm-up iterations.

toy:   ToyNet 2->32->64->64->64->1 (LeakyReLU 0.05), by default in the
       reference's form (1x1 convolutions on [N, 2, 1, 1]); 8-Gaussian
       mixture (radius 1, sd 0.15) positives; a persistent bank of 10,000
       chains initialised uniform in [-1, 1]; per iteration 100 chains drawn
       without replacement, STEPS Langevin steps x <- x - dF/dx + eps z
       (eps 0.125), written back; SGD on d_st = (2/eps^2)(mean F(x+) -
       mean F(x-)) with lr 0.1 * eps^2/2 (the reference's scaling, the same
       step as ebmflow's lr 0.1 on the unscaled loss).
mnist: VanillaNet (n_f 32, 1 channel, 32x32, LeakyReLU 0.05); real MNIST
       training images read from the IDX file data-mnist caches, scaled to
       [-1, 1] and resized bilinearly to 32x32; positives with data noise
       2 eps (eps 7.5e-3); a persistent bank of one chain per training image
       (60,000) initialised uniform in [-1, 1]; STEPS Langevin steps; SGD
       with the pipeline's exponential annealing from 0.05 toward 0.0005.

Both record d_st and r_t (the mean per-chain |dF/dx| over the steps) each
iteration, as ebmflow does. Run by `go run ./bench/e2e`; it installs nothing.

usage: python3 torch_loop.py {toy,mnist} --iterations K --warmup W --threads T
       [--steps L] [--batch N] [--mnist FILE] [--toy-layers conv|linear]
"""
import argparse
import gzip
import json
import math
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def toy_net(layers, slope=0.05):
    dims = [2, 32, 64, 64, 64, 1]
    mods = []
    for i in range(len(dims) - 1):
        if layers == "conv":
            mods.append(nn.Conv2d(dims[i], dims[i + 1], 1, 1, 0))
        else:
            mods.append(nn.Linear(dims[i], dims[i + 1]))
        if i + 2 < len(dims):
            mods.append(nn.LeakyReLU(slope))
    return nn.Sequential(*mods)


def vanilla_net(nf, slope=0.05):
    return nn.Sequential(
        nn.Conv2d(1, nf, 3, 1, 1), nn.LeakyReLU(slope),
        nn.Conv2d(nf, 2 * nf, 4, 2, 1), nn.LeakyReLU(slope),
        nn.Conv2d(2 * nf, 4 * nf, 4, 2, 1), nn.LeakyReLU(slope),
        nn.Conv2d(4 * nf, 8 * nf, 4, 2, 1), nn.LeakyReLU(slope),
        nn.Conv2d(8 * nf, 1, 4, 1, 0))


def read_mnist_images(path):
    """Returns the images of an IDX3 file (gzipped or raw) in [-1, 1], 32x32."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051:
        raise ValueError(f"{path}: not an IDX3 image file (magic {magic})")
    if len(raw) != 16 + n * rows * cols:
        raise ValueError(f"{path}: {len(raw) - 16} pixel bytes for {n}x{rows}x{cols}")
    x = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(n, 1, rows, cols)
    x = x.float() / 255 * 2 - 1
    return F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)


class Loop:
    """One training loop: energy net, optimiser, data, bank and epsilon."""

    def __init__(self, args):
        self.batch, self.steps = args.batch, args.steps
        if args.workload == "toy":
            self.eps = 0.125
            self.shape = (2, 1, 1) if args.toy_layers == "conv" else (2,)
            self.net = toy_net(args.toy_layers)
            self.bank = 2 * torch.rand((10000,) + self.shape) - 1
            self.lr0, self.decay, self.lr_min = 0.1, 1.0, 0.1
            angles = 2 * math.pi * torch.arange(8) / 8
            self.means = torch.stack([angles.cos(), angles.sin()], 1)
            self.positives = self.gmm
        else:
            self.eps = 7.5e-3
            self.data = read_mnist_images(args.mnist)
            self.net = vanilla_net(args.nf)
            self.bank = 2 * torch.rand_like(self.data) - 1
            self.lr0, self.lr_min = 0.05, 0.0005
            self.decay = (0.0005 / 0.05) ** (1 / 100000)
            self.positives = self.mnist
        scale = self.eps ** 2 / 2
        self.opt = torch.optim.SGD(self.net.parameters(), lr=self.lr0 * scale)
        self.lr, self.scale = self.lr0, scale

    def energy(self, x):
        return self.net(x).view(-1)

    def gmm(self):
        k = torch.randint(0, 8, (self.batch,))
        x = self.means[k] + 0.15 * torch.randn(self.batch, 2)
        return x.view((self.batch,) + self.shape)

    def mnist(self):
        idx = torch.randperm(self.data.shape[0])[: self.batch]
        return self.data[idx] + 2 * self.eps * torch.randn((self.batch,) + self.data.shape[1:])

    def langevin(self):
        idx = torch.randperm(self.bank.shape[0])[: self.batch]
        x = self.bank[idx].clone().requires_grad_(True)
        r = torch.zeros(())
        for _ in range(self.steps):
            g, = torch.autograd.grad(self.energy(x).sum(), x)
            with torch.no_grad():
                x.sub_(g).add_(self.eps * torch.randn_like(x))
                r += g.view(self.batch, -1).norm(dim=1).mean()
        x = x.detach()
        self.bank[idx] = x
        return x, r.item() / self.steps

    def iterate(self):
        pos = self.positives()
        neg, r = self.langevin()
        d = (self.energy(pos).mean() - self.energy(neg).mean()) * (2 / self.eps ** 2)
        self.opt.zero_grad()
        d.backward()
        self.opt.step()
        self.lr = max(self.lr_min, self.lr * self.decay)
        for group in self.opt.param_groups:
            group["lr"] = self.lr * self.scale
        return d.item(), r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=["toy", "mnist"])
    ap.add_argument("--iterations", type=int, required=True, help="timed iterations")
    ap.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--steps", type=int, default=0, help="Langevin steps (0: 500 toy, 100 mnist)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--nf", type=int, default=32)
    ap.add_argument("--mnist", default="", help="train-images-idx3-ubyte[.gz]")
    ap.add_argument("--toy-layers", choices=["conv", "linear"], default="conv")
    ap.add_argument("--seed", type=int, default=123)
    args = ap.parse_args()
    if args.steps == 0:
        args.steps = 500 if args.workload == "toy" else 100
    if args.workload == "mnist" and not args.mnist:
        ap.error("mnist needs --mnist FILE")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    loop = Loop(args)
    for _ in range(args.warmup):
        loop.iterate()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    d = r = 0.0
    for _ in range(args.iterations):
        d, r = loop.iterate()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if not (math.isfinite(d) and math.isfinite(r)):
        raise SystemExit(f"non-finite d_st {d} or r_t {r} after {args.warmup + args.iterations} iterations")
    print(json.dumps({"seconds_per_iteration": wall / args.iterations, "cpu_percent": 100 * cpu / wall,
                      "iterations": args.iterations, "warmup": args.warmup, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "d_st": d, "r_t": r}))


if __name__ == "__main__":
    main()
