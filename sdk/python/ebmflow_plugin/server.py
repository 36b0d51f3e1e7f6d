"""The plugin's gRPC services: the base Plugin service and the service of
its kind, each tensor call decoded and answered with the frame codec, and
the method table that the shared-memory channel serves from as well."""

import concurrent.futures
import json

import grpc

from . import deadline, kinds, wire
from .errors import LinkError, Malformed, status_code
from .kinds import (NextRequest, Record, SampleRequest, State, UpdateRequest)
from .log import logger
from .pb import plugin_pb2 as pb
from .schema import build_config
from .tensor import Tensor

SERVICE = {kinds.ENERGY: "ebmflow.v1.Energy", kinds.SAMPLER: "ebmflow.v1.Sampler",
           kinds.DATA: "ebmflow.v1.Data", kinds.DIAGNOSTICS: "ebmflow.v1.Diagnostics"}


def as_tensor(name, v):
    """A call's result as a Tensor: a Tensor, a NumPy array or a PyTorch
    tensor (copied); anything else is an error naming the result."""
    if isinstance(v, Tensor):
        return v
    if v is None:
        raise ValueError("result tensor %r is None" % name)
    mod = type(v).__module__.split(".")[0]
    if mod == "torch":
        return Tensor.from_torch(v)
    if mod == "numpy":
        return Tensor.from_numpy(v)
    raise ValueError("result tensor %r is a %s, not a Tensor" % (name, type(v).__name__))


class Method:
    """One tensor call: its name for errors, whether a linked stage may call
    it, and run(message) -> (answer meta proto or None, [(name, tensor)])."""

    def __init__(self, name, link, run):
        self.name, self.link, self.run = name, link, run


class Server:
    """Serves impl (a kinds.Plugin) over gRPC and channels."""

    def __init__(self, impl, limit=wire.DEFAULT_LIMIT, broker=None):
        self.impl = impl
        self.limit = limit
        self.broker = broker
        self.stage = ""
        self.channels = []
        # A plugin that is not concurrent has every call run on one thread
        # of its own, in order: libraries with per-thread state (PyTorch's
        # and OpenMP's thread count, CUDA streams) then behave the same
        # whichever gRPC worker received the call.
        self.worker = None if impl.concurrent else concurrent.futures.ThreadPoolExecutor(1, "ebmflow-plugin-call")
        self.methods = self._methods()

    # -- errors ------------------------------------------------------------

    def status(self, method, err):
        """(code, message, details or None) for an implementation error."""
        stage = self.stage or self.impl.name
        msg = "stage %s: %s: %s" % (json.dumps(stage), method, err)
        details = err.failure if isinstance(err, LinkError) else None
        return status_code(err), msg, details

    def abort(self, context, method, err):
        code, msg, details = self.status(method, err)
        if code == grpc.StatusCode.UNKNOWN and not isinstance(err, (LinkError, Malformed, ValueError, kinds.Unsupported)):
            logger().debug("call failed", exc_info=err, extra={"fields": {"call": method}})
        if details is not None:
            # The callee's details (a CallFailure) under this call's status.
            from .pb import goplugin_pb2 as gp
            st = gp.RpcStatus.FromString(details)
            st.code, st.message = code.value[0], msg
            context.set_trailing_metadata((("grpc-status-details-bin", st.SerializeToString()),))
        context.abort(code, msg)

    def call(self, fn, *args):
        """Runs an implementation call: on the plugin's own thread unless
        the plugin is concurrent, with the deadline of the tensor call this
        thread serves (refused if it has passed when the call starts)."""
        dl = deadline.current()
        if self.worker is None:
            if dl is not None:
                deadline.check_deadline()
            return fn(*args)
        return self.worker.submit(deadline.run, dl, fn, *args).result()

    # -- the method table ----------------------------------------------------

    def _methods(self):
        impl, call = self.impl, self.call
        m = {}

        def save(_req):
            st = call(impl.save_state) or State()
            ts = sorted((k, as_tensor(k, v)) for k, v in st.tensors.items())
            return pb.StateMeta(meta=st.meta or b""), ts

        def load(req):
            meta = req.parse(pb.StateMeta())
            call(impl.load_state, State(meta=meta.meta, tensors=dict(req.tensors)))
            return None, []

        m["/ebmflow.v1.Plugin/SaveState"] = Method("save state", False, save)
        m["/ebmflow.v1.Plugin/LoadState"] = Method("load state", False, load)
        if impl.kind == kinds.ENERGY:
            def energy(req):
                return None, [("f", as_tensor("f", call(impl.energy, req.tensor("x"))))]

            def grad(req):
                f, g = call(impl.grad, req.tensor("x"))
                return None, [("f", as_tensor("f", f)), ("dfdx", as_tensor("dfdx", g))]

            def update(req):
                r = req.parse(pb.UpdateRequest())
                res = call(impl.update, UpdateRequest(req.tensor("pos"), req.tensor("neg"), r.lr, r.t))
                return pb.UpdateResponse(d_st=res.d_st, mean_pos=res.mean_pos, mean_neg=res.mean_neg, grad_norm=res.grad_norm), []

            m["/ebmflow.v1.Energy/Energy"] = Method("energy", True, energy)
            m["/ebmflow.v1.Energy/Grad"] = Method("grad", True, grad)
            m["/ebmflow.v1.Energy/Update"] = Method("update", False, update)
        elif impl.kind == kinds.SAMPLER:
            def sample(req):
                r = req.parse(pb.SampleRequest())
                res = call(impl.sample, SampleRequest(r.n, r.steps, r.init, req.tensors.get("start"), r.leave_bank,
                                                      r.trace, r.t, r.mala, r.stream))
                out = pb.SampleResponse(r=res.r, accept_rate=res.accept_rate)
                for s in res.trace:
                    out.trace.add(mean_energy=s.mean_energy, drift_norm=s.drift_norm)
                return out, [("x", as_tensor("x", res.x))]

            m["/ebmflow.v1.Sampler/Sample"] = Method("sample", True, sample)
        elif impl.kind == kinds.DATA:
            def describe(_req):
                return describe_pb(call(impl.describe)), []

            def next_(req):
                r = req.parse(pb.NextRequest())
                return None, [("x", as_tensor("x", call(impl.next, NextRequest(r.n, r.stream, r.noise, r.noise_set, r.split))))]

            def logp(req):
                return None, [("logp", as_tensor("logp", call(impl.log_density, req.tensor("x"))))]

            m["/ebmflow.v1.Data/Describe"] = Method("describe", True, describe)
            m["/ebmflow.v1.Data/Next"] = Method("next", True, next_)
            m["/ebmflow.v1.Data/LogDensity"] = Method("log density", True, logp)
        elif impl.kind == kinds.DIAGNOSTICS:
            def observe(req):
                r = req.parse(pb.ObserveRequest())
                recs = []
                for i, p in enumerate(r.records):
                    recs.append(Record(p.t, p.lr, p.d_st, p.r_t, p.mean_pos, p.mean_neg, p.grad_norm, p.wall_seconds,
                                       dict(p.extra), req.tensors.get("pos.%d" % i), req.tensors.get("neg.%d" % i)))
                obs = call(impl.observe, recs)
                out = pb.ObserveResponse()
                if obs is not None:
                    out.metrics.update(obs.metrics)
                    for e in obs.events:
                        out.events.add(t=e.t, level=e.level, message=e.message)
                return out, []

            m["/ebmflow.v1.Diagnostics/Observe"] = Method("observe", False, observe)
        return m

    def run_method(self, full, message):
        """Runs a tensor call from the table: (meta bytes, tensors)."""
        meta, ts = self.methods[full].run(message)
        return (meta.SerializeToString() if meta is not None else b""), ts

    # -- gRPC handlers -------------------------------------------------------

    def stream_handler(self, full):
        m = self.methods[full]

        def handle(request_iterator, context):
            try:
                dl = deadline.from_grpc(context)
                req = wire.decode(request_iterator, self.limit)
                meta, ts = deadline.run(dl, m.run, req)
            except Exception as e:  # every failure becomes a status
                self.abort(context, m.name, e)
            yield from wire.encode(meta, ts)

        return grpc.stream_stream_rpc_method_handler(handle, pb.Frame.FromString, pb.Frame.SerializeToString)

    def info(self, _req, _context):
        return pb.InfoResponse(name=self.impl.name, kind=self.impl.kind, version=self.impl.version,
                               protocol=kinds.PROTOCOL_VERSION, description=self.impl.description)

    def schema(self, _req, _context):
        out = pb.SchemaResponse()
        for a in self.impl.schema:
            default = "" if a.default is None else json.dumps(a.to_json()["default"])
            at = out.attributes.add(name=a.name, type=a.type, required=a.required, default_json=default, doc=a.doc, enum=a.enum,
                                    min_exclusive=a.min_exclusive, max_exclusive=a.max_exclusive)
            if a.min is not None:
                at.min = a.min
            if a.max is not None:
                at.max = a.max
        return out

    def configure(self, req, context):
        linked = {l.attribute: l.stage for l in req.links}
        cfg, diags = build_config(self.impl.schema, req.stage, req.seed, req.run_dir, req.values_json, linked)
        if diags.has_errors():
            return pb.ConfigureResponse(diagnostics=diags_pb(diags))
        for attr, ss in req.upstream.items():
            cfg.upstream[attr] = {k: list(v.dims) for k, v in ss.shapes.items()}
        for l in req.links:
            if self.broker is None:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                              "stage %s: attribute %s links stage %s but no broker is available"
                              % (json.dumps(req.stage), json.dumps(l.attribute), json.dumps(l.stage)))
            try:
                cfg.links[l.attribute] = self.broker.link(l, req.stage, self.limit)
            except Exception as e:
                context.abort(grpc.StatusCode.UNAVAILABLE, "stage %s: attribute %s: dial linked stage %s: %s"
                              % (json.dumps(req.stage), json.dumps(l.attribute), json.dumps(l.stage), e))
        self.stage = req.stage
        try:
            shapes = self.call(self.impl.configure, cfg, diags) or {}
        except Exception as e:
            self.abort(context, "configure", e)
        return pb.ConfigureResponse(diagnostics=diags_pb(diags), observe_tensors=cfg.observe_tensors, cost=cost_pb(cfg.cost),
                                    shapes={k: pb.Shape(dims=[int(d) for d in v]) for k, v in shapes.items()})

    def open_channel(self, req, context):
        from . import channel
        if not channel.enabled():
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "shared-memory channels are off in this plugin (EBMFLOW_SHM=0 or not Linux)")
        if req.peer_pid <= 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "open channel: bad peer pid %d" % req.peer_pid)
        try:
            ln = channel.listen(self, req.peer_pid, req.peer_stage)
        except Exception as e:
            context.abort(grpc.StatusCode.UNAVAILABLE, "open channel: %s" % e)
        self.channels.append(ln)
        import os
        return pb.OpenChannelResponse(channel=pb.Channel(socket=ln.name, pid=os.getpid()))

    def data_describe(self, _req, context):
        try:
            return describe_pb(self.call(self.impl.describe))
        except Exception as e:
            self.abort(context, "describe", e)

    def report(self, req, context):
        try:
            r = self.call(self.impl.report, req.final)
        except Exception as e:
            self.abort(context, "report", e)
        if r is None:
            return pb.ReportResponse()
        return pb.ReportResponse(summary=r.summary, files=r.files)

    def handlers(self):
        """The generic handlers of the Plugin service and the kind's service."""
        u = grpc.unary_unary_rpc_method_handler
        base = {
            "Info": u(self.info, pb.Empty.FromString, pb.InfoResponse.SerializeToString),
            "Schema": u(self.schema, pb.Empty.FromString, pb.SchemaResponse.SerializeToString),
            "Configure": u(self.configure, pb.ConfigureRequest.FromString, pb.ConfigureResponse.SerializeToString),
            "OpenChannel": u(self.open_channel, pb.OpenChannelRequest.FromString, pb.OpenChannelResponse.SerializeToString),
            "SaveState": self.stream_handler("/ebmflow.v1.Plugin/SaveState"),
            "LoadState": self.stream_handler("/ebmflow.v1.Plugin/LoadState"),
        }
        kind = {}
        svc = SERVICE[self.impl.kind]
        for full in self.methods:
            if full.startswith("/" + svc + "/") and full != "/ebmflow.v1.Data/Describe":
                kind[full.rsplit("/", 1)[1]] = self.stream_handler(full)
        if self.impl.kind == kinds.DATA:
            kind["Describe"] = u(self.data_describe, pb.Empty.FromString, pb.DescribeResponse.SerializeToString)
        if self.impl.kind == kinds.DIAGNOSTICS:
            kind["Report"] = u(self.report, pb.ReportRequest.FromString, pb.ReportResponse.SerializeToString)
        return [grpc.method_handlers_generic_handler("ebmflow.v1.Plugin", base),
                grpc.method_handlers_generic_handler(svc, kind)]


def cost_pb(c):
    """The Cost message of what Config.declare_cost declared, or None."""
    if c is None:
        return None
    return pb.Cost(grads_per_row=int(c["grads_per_row"]),
                   draws=[pb.Draw(link=d["link"], rows=int(d["rows"]), every=int(d["every"])) for d in c["draws"]])


def describe_pb(d):
    return pb.DescribeResponse(shape=[int(x) for x in d.shape], size=d.size, has_density=d.has_density, box=[pb.Interval(lo=b[0], hi=b[1]) for b in d.box])


def diags_pb(diags):
    out = []
    for d in diags:
        sev = pb.Diagnostic.ERROR if d["severity"] == "error" else pb.Diagnostic.WARNING
        out.append(pb.Diagnostic(severity=sev, summary=d["summary"], detail=d["detail"], path=d["path"]))
    return out


