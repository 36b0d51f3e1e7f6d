"""The torch-energy plugin: energy-convnet's attributes, nets, weights,
state and updates, computed by PyTorch on the CPU or a CUDA device."""

import base64
import functools
import json
import math
import os
import threading

from ebmflow_plugin import (FLOAT32, FLOAT64, INT, NUMBER, STRING, Attribute, Energy, NonFinite, ShapeError, State,
                            Stream, Tensor, UpdateResult, check_deadline, logger)

VERSION = "0.1.0"

SCHEMA = [
    Attribute("net", STRING, 'Network: "vanilla" (the reference VanillaNet ConvNet for images) or "toy" (the MLP 2->32->64->64->64->1 for 2-D data). Default "vanilla".',
              default="vanilla", enum=["vanilla", "toy"]),
    Attribute("channels", INT, "Image channels n_c of the vanilla net: 1 (grey) or 3 (colour). Default 1. Ignored by the toy net.", default=1, min=1, max=3),
    Attribute("image_size", INT, "Side of the square input image in pixels: 32, or 28 (the final conv is then 3x3). Default 32. Ignored by the toy net.", default=32, min=28, max=32),
    Attribute("n_f", INT, "Base number of filters n_f of the vanilla net (layers have n_f, 2n_f, 4n_f, 8n_f filters). Default 32. Ignored by the toy net.", default=32, min=1, max=4096),
    Attribute("slope", NUMBER, "Negative slope of every LeakyReLU, dimensionless, in [0, 1). Default 0.05.", default=0.05, min=0, max=1, max_exclusive=True),
    Attribute("epsilon", NUMBER, "Langevin noise eps of the sampler (same units as x), > 0. Used for d_st = (2/eps^2)(mean F(x+) - mean F(x-)) and to scale the Adam gradient. Required, no default.",
              required=True, min=0, min_exclusive=True, max=100),
    Attribute("optimizer", STRING, 'Weight update: "sgd" (no momentum, theta <- theta - lr * grad(mean F(x+) - mean F(x-))) or "adam" (PyTorch Adam on grad d_st). Default "sgd".',
              default="sgd", enum=["sgd", "adam"]),
    Attribute("adam_beta1", NUMBER, "Adam first-moment decay beta1, in [0, 1). Default 0.9.", default=0.9, min=0, max=1, max_exclusive=True),
    Attribute("adam_beta2", NUMBER, "Adam second-moment decay beta2, in [0, 1). Default 0.999.", default=0.999, min=0, max=1, max_exclusive=True),
    Attribute("adam_eps", NUMBER, "Adam denominator term eps (gradient units), > 0. Default 1e-8.", default=1e-8, min=0, min_exclusive=True, max=1),
    Attribute("dtype", STRING, 'Element type of weights, inputs and outputs: "float32" or "float64". Default "float32".',
              default="float32", enum=["float32", "float64"]),
    Attribute("device", STRING, 'Where PyTorch computes: "cpu", "cuda" (fails at configure without a CUDA device) or "auto" (cuda when available, else cpu). Default "cpu". Only the CPU is bit-for-bit reproducible.',
              default="cpu", enum=["cpu", "cuda", "auto"]),
    Attribute("threads", INT, "PyTorch CPU threads; 0 keeps PyTorch's default (one per core). A run resumes bit for bit with the same number. Default 0.", default=0, min=0, max=1024),
]

SETTINGS = ["net", "channels", "image_size", "n_f", "slope", "epsilon", "optimizer", "adam_beta1", "adam_beta2", "adam_eps", "dtype"]
PREFIX_M, PREFIX_V = "optim.exp_avg.", "optim.exp_avg_sq."


def arch_key(s):
    """The settings that fix the tensors' layout, as energy-convnet writes them."""
    if s["net"] == "toy":
        return "toy/%s/%s" % (s["dtype"], s["optimizer"])
    return "vanilla(channels=%d, image_size=%d, n_f=%d)/%s/%s" % (s["channels"], s["image_size"], s["n_f"], s["dtype"], s["optimizer"])


def serial(method):
    """Runs a call under the plugin's lock with PyTorch's CPU thread count
    set for the calling thread. The count is per thread (an OpenMP setting),
    and the SDK's gRPC and channel threads would otherwise compute with
    different counts, and so different rounding."""
    @functools.wraps(method)
    def run(self, *args):
        with self.lock:
            if self.threads:
                import torch
                if torch.get_num_threads() != self.threads:
                    torch.set_num_threads(self.threads)
            return method(self, *args)
    return run


class TorchEnergy(Energy):
    """energy-convnet in PyTorch. Its calls run on whichever SDK thread
    receives them (concurrent, saving a thread hand-off per call), one at a
    time under its lock, each with the same PyTorch thread count."""

    name = "torch-energy"
    version = VERSION
    description = "energy-convnet's VanillaNet and 2-D MLP in PyTorch (CPU or CUDA), with the same weights, SGD and Adam"
    schema = SCHEMA
    concurrent = True

    def __init__(self):
        self.net = None
        self.lock = threading.RLock()
        self.threads = 0

    @serial
    def configure(self, cfg, diags):
        s = {k: cfg.get(k) for k in SETTINGS}
        if s["channels"] not in (1, 3):
            diags.error(["channels"], "invalid value", "%s: must be 1 or 3" % s["channels"])
        if s["image_size"] not in (28, 32):
            diags.error(["image_size"], "invalid value", "%s: must be 32 or 28" % s["image_size"])
        if not 1 <= s["n_f"] <= 4096:
            diags.error(["n_f"], "invalid value", "%s: must be between 1 and 4096" % s["n_f"])
        for name, lo, hi, open_lo in (("slope", 0, 1, False), ("adam_beta1", 0, 1, False), ("adam_beta2", 0, 1, False),
                                      ("adam_eps", 0, math.inf, True), ("epsilon", 0, math.inf, True)):
            v = s[name]
            if v is None:
                continue
            if not (math.isfinite(v) and lo <= v < hi and not (open_lo and v == lo)):
                diags.error([name], "invalid value", "%s is outside %s%s, %s)" % (v, "(" if open_lo else "[", lo, hi))
        if cfg.int("threads") < 0:
            diags.error(["threads"], "invalid value", "threads must be 0 (PyTorch's default) or more")
        import torch
        device = cfg.string("device")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
            logger().info('device = "auto": computing on the %s' % ("CUDA device" if device == "cuda" else "CPU (PyTorch finds no CUDA device)"),
                          extra={"fields": {"device": device}})
        if device == "cuda" and not torch.cuda.is_available():
            diags.error(["device"], "no CUDA device", 'device = "cuda" but PyTorch finds no CUDA device here; use "cpu" or "auto"')
        if diags.has_errors():
            return {}
        if device == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
        self.threads = cfg.int("threads") or torch.get_num_threads()
        torch.set_num_threads(self.threads)
        from .nets import Adam, Net
        self.torch, self.set, self.device = torch, s, torch.device(device)
        self.dt = torch.float64 if s["dtype"] == "float64" else torch.float32
        self.wire_dtype = FLOAT64 if s["dtype"] == "float64" else FLOAT32
        with torch.no_grad():
            self.net = Net(s["net"], s["channels"], s["image_size"], s["n_f"], s["slope"], self.dt, self.device)
            self.init = Stream(cfg.seed, "init")
            self.net.init(self.init)
        self.opt = Adam(self.net.params, s["adam_beta1"], s["adam_beta2"], s["adam_eps"]) if s["optimizer"] == "adam" else None
        logger().debug("configured", extra={"fields": {"device": device, "params": self.net.numel(), "threads": torch.get_num_threads()}})
        return {"input": list(self.net.input)}

    # -- calls -------------------------------------------------------------

    def _input(self, op, name, x):
        """The checked batch x as a torch tensor on the device."""
        if self.net is None:
            raise RuntimeError("%s: torch-energy: not configured" % op)
        try:
            x.expect(self.wire_dtype, -1, *self.net.input)
            if x.batch() < 1:
                raise ShapeError("empty batch [%s]" % " ".join(map(str, x.shape)))
            x.check_finite()
        except (ShapeError, NonFinite) as e:
            raise type(e)("%s: %s: %s" % (op, name, str(e).split(": ", 1)[1])) from None
        return x.torch(self.device)

    def _out(self, op, what, t):
        out = Tensor.from_torch(t)
        try:
            out.check_finite()
        except NonFinite as e:
            raise NonFinite("%s: output %s: %s" % (op, what, str(e).split(": ", 1)[1])) from None
        return out

    @serial
    def energy(self, x):
        xt = self._input("energy", "x", x)
        with self.torch.no_grad():
            f = self.net.forward(xt)
        return self._out("energy", "F", f)

    @serial
    def grad(self, x):
        torch = self.torch
        xt = self._input("grad", "x", x).requires_grad_(True)
        with torch.enable_grad():
            f = self.net.forward(xt)
            check_deadline()  # the caller's: no backward pass for a caller that gave up
            (g,) = torch.autograd.grad(f.sum(), xt)
        return self._out("grad", "F", f), self._out("grad", "dF/dx", g)

    @serial
    def update(self, req):
        torch = self.torch
        pos = self._input("update", "positives", req.pos)
        neg = self._input("update", "negatives", req.neg)
        if not math.isfinite(req.lr):
            raise NonFinite("update: learning rate: %s" % req.lr)
        n, m = pos.shape[0], neg.shape[0]
        ps = [p for _, p in self.net.params]
        with torch.enable_grad():
            for p in ps:
                p.requires_grad_(True)
            try:
                f = self.net.forward(torch.cat([pos, neg]))
                coef = torch.cat([torch.full((n,), 1 / n, dtype=self.dt, device=self.device),
                                  torch.full((m,), -1 / m, dtype=self.dt, device=self.device)])
                grads = torch.autograd.grad((coef * f).sum(), ps)
            finally:
                for p in ps:
                    p.requires_grad_(False)
        f64 = f.detach().double().cpu()
        if not torch.isfinite(f64).all():
            raise NonFinite("update: energies: F = %s" % f64[~torch.isfinite(f64)][0].item())
        mp, mn = f64[:n].mean().item(), f64[n:].mean().item()
        scale = 2 / (self.set["epsilon"] ** 2)
        ss = sum(float((g.double() ** 2).sum()) for g in grads)
        if not math.isfinite(ss):
            raise NonFinite("update: weight gradient: squared norm %s" % ss)
        norm = math.sqrt(ss)
        check_deadline()  # past the caller's deadline, the weights stay as they were
        with torch.no_grad():
            if self.opt is not None:
                norm *= scale
                self.opt.step_all(self.net.params, grads, scale, req.lr)
            else:
                from .nets import sgd_step
                sgd_step(self.net.params, grads, req.lr)
        return UpdateResult(scale * (mp - mn), mp, mn, norm)

    # -- state -------------------------------------------------------------

    @serial
    def save_state(self):
        if self.net is None:
            raise RuntimeError("save state: torch-energy: not configured")
        st = State()
        for i, (name, p) in enumerate(self.net.params):
            st.tensors[name] = Tensor.from_torch(p)
            if self.opt is not None:
                st.tensors[PREFIX_M + name] = Tensor.from_torch(self.opt.m[i])
                st.tensors[PREFIX_V + name] = Tensor.from_torch(self.opt.v[i])
        meta = {"format": 1, "settings": self.set, "step": self.opt.step if self.opt else 0,
                "init_stream": base64.b64encode(self.init.state()).decode()}
        st.meta = json.dumps(meta).encode()
        return st

    @serial
    def load_state(self, st):
        if self.net is None:
            raise RuntimeError("load state: torch-energy: not configured")
        weights_only = len(st.meta) == 0  # e.g. a converted PyTorch state_dict: Adam restarts
        meta = {}
        if not weights_only:
            try:
                meta = json.loads(st.meta)
                saved = arch_key({k: meta["settings"][k] for k in ("net", "channels", "image_size", "n_f", "dtype", "optimizer")})
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError("load state: meta: %s" % e) from None
            if saved != arch_key(self.set):
                raise ValueError("load state: saved net %s does not match configured net %s" % (saved, arch_key(self.set)))
        want = {}
        for name, p in self.net.params:
            want[name] = tuple(p.shape)
            if self.opt is not None and not weights_only:
                want[PREFIX_M + name] = want[PREFIX_V + name] = tuple(p.shape)
        missing, extra = sorted(set(want) - set(st.tensors)), sorted(set(st.tensors) - set(want))
        if missing or extra:
            raise ValueError("load state: tensor names differ: missing %s, unexpected %s" % (missing, extra))
        for name, shape in want.items():
            try:
                st.tensors[name].expect(self.wire_dtype, *shape)
            except ShapeError as e:
                raise ShapeError("load state: tensor %r: %s" % (name, str(e).split(": ", 1)[1])) from None
        stream = None
        if meta.get("init_stream"):
            stream = Stream(0, "")
            try:
                stream.set_state(base64.b64decode(meta["init_stream"]))
            except ValueError as e:
                raise ValueError("load state: init stream: %s" % e) from None
        with self.torch.no_grad():
            for i, (name, p) in enumerate(self.net.params):
                p.copy_(st.tensors[name].torch(self.device))
            if self.opt is not None and weights_only:
                from .nets import Adam
                self.opt = Adam(self.net.params, self.set["adam_beta1"], self.set["adam_beta2"], self.set["adam_eps"])
            elif self.opt is not None:
                for i, (name, _) in enumerate(self.net.params):
                    self.opt.m[i].copy_(st.tensors[PREFIX_M + name].torch(self.device))
                    self.opt.v[i].copy_(st.tensors[PREFIX_V + name].torch(self.device))
                self.opt.step = int(meta.get("step", 0))
        if stream is not None:
            self.init = stream
