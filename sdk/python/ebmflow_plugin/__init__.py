"""ebmflow_plugin: write ebmflow plugins in Python.

A plugin is a class deriving from one kind (Energy, Sampler, Data,
Diagnoser) and one call, ``serve(MyPlugin())``, in an executable script
named ``ebmflow-plugin-NAME``. docs/plugins-python.md is the guide.
"""

from .deadline import check_deadline, time_left
from .errors import DeadlineExceeded, LinkError, Malformed, NonFinite, PluginError, ShapeError, TooLarge, Unsupported
from .kinds import (DATA, DIAGNOSTICS, ENERGY, PROTOCOL_VERSION, SAMPLER, Data, DataInfo, Diagnoser, Energy, Event,
                    NextRequest, Observation, Plugin, Record, Report, SampleRequest, SampleResult, Sampler, State,
                    StepStat, UpdateRequest, UpdateResult)
from .log import logger
from .rng import Stream, derive_seed
from .schema import (BOOL, INT, LIST_NUMBER, LIST_STRING, NUMBER, STRING, Attribute, Config, Diagnostics,
                     build_config, stage_ref)
from .serve import serve
from .tensor import FLOAT32, FLOAT64, Tensor

__all__ = [n for n in dir() if not n.startswith("_")]
