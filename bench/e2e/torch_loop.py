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

For comparing learning, not speed (docs/results.md, issue 19), the toy loop
can also report TV_ebm as diag-oscillation defines it (the true and the
model density exp(-F 2/eps^2) normalised over the 200x200 cell centres of
the plot box +-1.6): --tv-at 500,1000 prints one JSON line per listed
iteration, and --tv-of FILE prints TV_ebm of an ebmflow toy energy's
weights (a checkpoint's energy.safetensors) and exits, which is how the two
definitions are checked against each other (pipelines/tv_cross_test.go).

usage: python3 torch_loop.py {toy,mnist} --iterations K --warmup W --threads T
       [--steps L] [--batch N] [--mnist FILE] [--toy-layers conv|linear]
       [--tv-at T1,T2,...] [--tv-of energy.safetensors]
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


TV_BOX, TV_CELLS, GMM_SD = 1.6, 200, 0.15


def gmm_tv_ebm(energy, eps):
    """TV_ebm of the toy gmm as diag-oscillation computes it: both densities
    normalised over the TV_CELLS x TV_CELLS cell centres of [-TV_BOX, TV_BOX]^2,
    the model's as exp(-F(x) 2/eps^2). energy maps [n, 2] float32 to [n]."""
    w = 2 * TV_BOX / TV_CELLS
    c = -TV_BOX + (torch.arange(TV_CELLS, dtype=torch.float64) + 0.5) * w
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    angles = 2 * math.pi * torch.arange(8, dtype=torch.float64) / 8
    means = torch.stack([angles.cos(), angles.sin()], 1)
    d2 = ((pts[:, None, :] - means[None]) ** 2).sum(-1)
    truth = torch.softmax(torch.logsumexp(-d2 / (2 * GMM_SD ** 2), 1), 0)
    with torch.no_grad():
        f = energy(pts.float()).double()
    model = torch.softmax(-f * 2 / eps ** 2, 0)
    return 0.5 * (truth - model).abs().sum().item()


def read_safetensors(path):
    """The tensors of a safetensors file (F32 or F64) by name."""
    with open(path, "rb") as fh:
        raw = fh.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": torch.float32, "F64": torch.float64}[v["dtype"]]
        a, b = v["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=dtype).view(v["shape"])
    return out


def toy_tv_of(path, eps):
    """TV_ebm of an ebmflow toy energy's weights (f.0.weight [32, 2], ...)."""
    net = toy_net("linear")
    net.load_state_dict({k[len("f."):]: v.float() for k, v in read_safetensors(path).items()})
    return gmm_tv_ebm(lambda x: net(x).view(-1), eps)


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
    ap.add_argument("--iterations", type=int, default=0, help="timed iterations (required unless --tv-at or --tv-of)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--steps", type=int, default=0, help="Langevin steps (0: 500 toy, 100 mnist)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--nf", type=int, default=32)
    ap.add_argument("--mnist", default="", help="train-images-idx3-ubyte[.gz]")
    ap.add_argument("--toy-layers", choices=["conv", "linear"], default="conv")
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--tv-at", default="", help="toy: iterations (counted from the first, warm-up included) to print TV_ebm at")
    ap.add_argument("--tv-of", default="", help="toy: print TV_ebm of this energy.safetensors and exit")
    args = ap.parse_args()
    if args.tv_of:
        print(json.dumps({"file": args.tv_of, "tv_ebm": toy_tv_of(args.tv_of, 0.125)}))
        return
    tv_at = {int(v) for v in args.tv_at.split(",") if v}
    if tv_at and args.workload != "toy":
        ap.error("--tv-at is for the toy workload")
    if not tv_at and args.iterations < 1:
        ap.error("--iterations must be at least 1")
    if args.steps == 0:
        args.steps = 500 if args.workload == "toy" else 100
    if args.workload == "mnist" and not args.mnist:
        ap.error("mnist needs --mnist FILE")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    loop = Loop(args)
    if tv_at:
        for t in range(1, max(tv_at) + 1):
            d, r = loop.iterate()
            if t in tv_at:
                print(json.dumps({"seed": args.seed, "t": t, "tv_ebm": gmm_tv_ebm(lambda x: loop.energy(x.view((-1,) + loop.shape)), loop.eps),
                                  "d_st": d, "r_t": r}), flush=True)
        return
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
