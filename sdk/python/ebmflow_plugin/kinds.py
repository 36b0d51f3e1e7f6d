"""The four plugin kinds a plugin class derives from, and the requests and
results of their calls. Each mirrors the Go SDK's interface of the same name
(sdk/kinds.go); docs/plugins.md describes the contracts."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .errors import Unsupported
from .tensor import Tensor

PROTOCOL_VERSION = 1
"""The plugin protocol this SDK speaks (sdk.ProtocolVersion)."""

ENERGY, SAMPLER, DATA, DIAGNOSTICS = "energy", "sampler", "data", "diagnostics"


@dataclass
class State:
    """A stage's state: named tensors (safetensors in a checkpoint) and a
    bytes blob for everything else (conventionally JSON)."""
    meta: bytes = b""
    tensors: Dict[str, Tensor] = field(default_factory=dict)


@dataclass
class UpdateRequest:
    """Update's input: positives, negatives, learning rate, iteration."""
    pos: Tensor
    neg: Tensor
    lr: float
    t: int


@dataclass
class UpdateResult:
    """Update's answer: d_st, mean energies, weight-gradient norm."""
    d_st: float
    mean_pos: float
    mean_neg: float
    grad_norm: float


@dataclass
class SampleRequest:
    """Sample's input (see sdk.SampleRequest)."""
    n: int = 0
    steps: int = 0
    init: str = ""
    start: Optional[Tensor] = None
    leave_bank: bool = False
    trace: bool = False
    t: int = 0
    mala: bool = False
    stream: str = ""


@dataclass
class StepStat:
    """One step's statistics in a sample trace."""
    mean_energy: float
    drift_norm: float


@dataclass
class SampleResult:
    """Sample's answer: chains x, drift r, acceptance (-1 without MH), trace."""
    x: Tensor
    r: float = 0.0
    accept_rate: float = -1.0
    trace: List[StepStat] = field(default_factory=list)


@dataclass
class DataInfo:
    """Describe's answer: per-sample shape, size (0: endless), density, and
    the plot box of a low-dimensional set: one [lo, hi] per coordinate."""
    shape: List[int]
    size: int = 0
    has_density: bool = False
    box: List[List[float]] = field(default_factory=list)


@dataclass
class NextRequest:
    """Next's input: n samples from the named consumer stream."""
    n: int
    stream: str = ""
    noise: float = 0.0
    noise_set: bool = False
    # split "" is the training data; "test" asks for held-out examples
    # (sdk.NextRequest.Split); a plugin without them raises Unsupported.
    split: str = ""


@dataclass
class Record:
    """One training iteration's record, for a diagnostics stage."""
    t: int = 0
    lr: float = 0.0
    d_st: float = 0.0
    r_t: float = 0.0
    mean_pos: float = 0.0
    mean_neg: float = 0.0
    grad_norm: float = 0.0
    wall_seconds: float = 0.0
    extra: Dict[str, float] = field(default_factory=dict)
    pos: Optional[Tensor] = None
    neg: Optional[Tensor] = None


@dataclass
class Event:
    """A diagnostics event: iteration, level (info, warn, error), message."""
    t: int
    level: str
    message: str


@dataclass
class Observation:
    """Observe's answer: metrics (into the record's extra) and events."""
    metrics: Dict[str, float] = field(default_factory=dict)
    events: List[Event] = field(default_factory=list)


@dataclass
class Report:
    """Report's answer: a JSON summary and the files written in the run folder."""
    summary: bytes = b""
    files: List[str] = field(default_factory=list)


class Plugin:
    """The base contract every kind shares. Set the class attributes name
    (the NAME of ebmflow-plugin-NAME), version, description and schema (a
    list of Attribute); implement configure, save_state and load_state.

    The SDK runs the calls one at a time, in the order they arrive, all on
    one thread of their own (so thread-local library state, such as
    PyTorch's thread count, is the same for every call), unless the class
    sets ``concurrent = True``: then calls run on gRPC's worker threads, as
    they come, and the plugin guards its own state."""

    kind = ""
    name = ""
    version = "0.0.0"
    description = ""
    schema = []
    concurrent = False

    def configure(self, cfg, diags):
        """Receives the decoded block (a Config) and a Diagnostics to add
        problems to; returns the declared shapes, e.g. {"input": [2]}."""
        return {}

    def save_state(self):
        """Everything needed to continue bit for bit, as a State."""
        return State()

    def load_state(self, state):
        """Restores a State from save_state; raises on one it cannot use."""


class Energy(Plugin):
    """An energy F(x; theta): energy, grad, update."""

    kind = ENERGY

    def energy(self, x):
        """F(x) per sample: a tensor of shape [n]."""
        raise Unsupported("energy")

    def grad(self, x):
        """(F(x) of shape [n], dF/dx of x's shape)."""
        raise Unsupported("grad")

    def update(self, req):
        """One weight update from an UpdateRequest; returns an UpdateResult."""
        raise Unsupported("update")


class Sampler(Plugin):
    """A sampler of negatives."""

    kind = SAMPLER

    def sample(self, req):
        """Chains for a SampleRequest; returns a SampleResult."""
        raise Unsupported("sample")


class Data(Plugin):
    """A data set of positives."""

    kind = DATA

    def describe(self):
        """A DataInfo."""
        raise Unsupported("describe")

    def next(self, req):
        """req.n samples (a Tensor) from the consumer stream req.stream."""
        raise Unsupported("next")

    def log_density(self, x):
        """log p(x) per sample, or raise Unsupported."""
        raise Unsupported("log density")


class Diagnoser(Plugin):
    """A diagnostics stage."""

    kind = DIAGNOSTICS

    def observe(self, records):
        """A list of Record; returns an Observation (or None)."""
        return None

    def report(self, final):
        """A Report (or None)."""
        return None
