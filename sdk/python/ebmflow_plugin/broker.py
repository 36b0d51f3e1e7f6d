"""Links to other stages: go-plugin's broker (plugin side) and the clients
of linked stages.

At Configure the host serves, for each stage reference, a proxy of the
referenced stage on a broker id and sends where to dial it through the
broker stream; when it also arranged a shared-memory channel (and this
process can use one) the link's calls go straight to the other process
instead. Either way the plugin gets a client (EnergyLink, DataLink,
SamplerLink) from ``cfg.link(attribute)``.
"""

import threading

import grpc

from . import deadline, wire
from .errors import LinkError
from .kinds import DataInfo, SampleResult, StepStat
from .pb import plugin_pb2 as pb

DIAL_TIMEOUT = 5.0  # seconds to wait for a broker id's address, as go-plugin


class Broker:
    """The plugin side of go-plugin's GRPCBroker: it collects the
    addresses the host announces and dials them with the plugin's TLS
    identity."""

    def __init__(self, cert_pem, key_pem, host_pem):
        self.creds = grpc.ssl_channel_credentials(root_certificates=host_pem, private_key=key_pem, certificate_chain=cert_pem)
        self.cond = threading.Condition()
        self.infos = {}
        self.stopped = threading.Event()

    def stream(self, request_iterator, context):
        """The StartStream handler: records each ConnInfo the host sends."""
        def read():
            try:
                for info in request_iterator:
                    with self.cond:
                        self.infos[info.service_id] = info
                        self.cond.notify_all()
            except grpc.RpcError:
                pass
            self.stopped.set()

        threading.Thread(target=read, daemon=True).start()
        self.stopped.wait()
        return iter(())

    def dial(self, broker_id):
        """A gRPC channel to the service the host serves on broker_id."""
        with self.cond:
            if not self.cond.wait_for(lambda: broker_id in self.infos, DIAL_TIMEOUT):
                raise TimeoutError("timeout waiting for connection info of broker id %d" % broker_id)
            info = self.infos.pop(broker_id)
        target = ("unix:" + info.address) if info.network == "unix" else info.address
        opts = [("grpc.ssl_target_name_override", "localhost"),
                ("grpc.max_receive_message_length", wire.MAX_MESSAGE_SIZE),
                ("grpc.max_send_message_length", wire.MAX_MESSAGE_SIZE)]
        return grpc.secure_channel(target, self.creds, options=opts)

    def link(self, l, caller, limit):
        """The client of a pb.Link: through its channel when possible, else
        through the broker."""
        cls = {"energy": EnergyLink, "data": DataLink, "sampler": SamplerLink}.get(l.kind)
        if cls is None:
            raise ValueError("stage %r is a %s stage, which cannot be linked" % (l.stage, l.kind))
        client = cls(l.stage, caller, self.dial(l.broker_id), limit)
        if l.HasField("channel"):
            from . import channel
            if channel.enabled():
                try:
                    client.channel = channel.dial(l.channel.socket, l.channel.pid, limit, l.channel.timeout_ms)
                except OSError as e:
                    from .log import logger
                    logger().debug("no shared-memory channel to the linked stage; its calls go through the host",
                                   extra={"fields": {"link": l.stage, "error": str(e)}})
        return client


def _details(err):
    """The grpc-status-details-bin trailer of a failed call, if any."""
    try:
        for k, v in err.trailing_metadata() or ():
            if k == "grpc-status-details-bin":
                return v
    except Exception:
        pass
    return None


class _Link:
    """A client of a linked stage."""

    def __init__(self, stage, caller, conn, limit):
        self.stage, self.caller, self.conn, self.limit = stage, caller, conn, limit
        self.channel = None

    def uses_channel(self):
        """Whether the calls go through a shared-memory channel."""
        return self.channel is not None and not self.channel.dead()

    def _call(self, name, full, meta=None, tensors=()):
        if self.channel is not None:
            return self.channel.call(self.stage, self.caller, name, full, meta, tensors)
        fn = self.conn.stream_stream(full, request_serializer=pb.Frame.SerializeToString, response_deserializer=pb.Frame.FromString)
        deadline.check_deadline()
        try:
            return wire.decode(fn(wire.encode(meta, tensors), timeout=deadline.time_left()), self.limit)
        except grpc.RpcError as e:
            raise LinkError(self.stage, name, e.code(), e.details(), _details(e)) from None

    def close(self):
        """Closes the link's connections."""
        if self.channel is not None:
            self.channel.close()
        self.conn.close()


class EnergyLink(_Link):
    """A linked energy: energy(x) and grad(x), never update."""

    def energy(self, x):
        """F(x), shape [n]."""
        return self._call("energy", "/ebmflow.v1.Energy/Energy", None, [("x", x)]).tensor("f")

    def grad(self, x):
        """(F(x), dF/dx)."""
        m = self._call("grad", "/ebmflow.v1.Energy/Grad", None, [("x", x)])
        return m.tensor("f"), m.tensor("dfdx")


class DataLink(_Link):
    """A linked data stage: describe, next, log_density."""

    def describe(self):
        """The data set's DataInfo."""
        if self.channel is not None:
            r = self._call("describe", "/ebmflow.v1.Data/Describe").parse(pb.DescribeResponse())
        else:
            fn = self.conn.unary_unary("/ebmflow.v1.Data/Describe", request_serializer=pb.Empty.SerializeToString,
                                       response_deserializer=pb.DescribeResponse.FromString)
            try:
                r = fn(pb.Empty())
            except grpc.RpcError as e:
                raise LinkError(self.stage, "describe", e.code(), e.details(), _details(e)) from None
        return DataInfo(list(r.shape), r.size, r.has_density, [[b.lo, b.hi] for b in r.box])

    def next(self, n, stream="", noise=None, split=""):
        """n samples from the consumer stream named stream (split "test": held-out examples)."""
        req = pb.NextRequest(n=n, stream=stream, noise=noise or 0.0, noise_set=noise is not None, split=split)
        return self._call("next", "/ebmflow.v1.Data/Next", req).tensor("x")

    def log_density(self, x):
        """log p(x) per sample."""
        return self._call("log density", "/ebmflow.v1.Data/LogDensity", None, [("x", x)]).tensor("logp")


class SamplerLink(_Link):
    """A linked sampler: sample."""

    def sample(self, req):
        """A SampleResult for a kinds.SampleRequest (set req.stream)."""
        r = pb.SampleRequest(n=req.n, steps=req.steps, init=req.init, leave_bank=req.leave_bank, trace=req.trace,
                             t=req.t, mala=req.mala, stream=req.stream)
        m = self._call("sample", "/ebmflow.v1.Sampler/Sample", r, [("start", req.start)])
        out = m.parse(pb.SampleResponse())
        return SampleResult(m.tensor("x"), out.r, out.accept_rate, [StepStat(s.mean_energy, s.drift_norm) for s in out.trace])
