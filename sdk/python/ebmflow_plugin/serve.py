"""``serve(plugin)``: the whole life of a plugin process.

Started by the host (the magic cookie is set) it negotiates the protocol,
makes its TLS certificate, serves the plugin's services together with
go-plugin's health, controller and broker services on 127.0.0.1, prints the
handshake line on stdout and from then on sends anything written to stdout
to stderr. It leaves SIGINT and SIGTERM to the host, exits when the host asks
(controller Shutdown) and exits by itself when the host is gone. Started with
the argument ``describe`` it prints its info and schema as JSON; started any
other way it says what it is on stderr and exits 1.
"""

import base64
import concurrent.futures
import ctypes
import json
import os
import signal
import sys
import threading
import time

import grpc

from . import kinds, wire
from .broker import Broker
from .cert import make_cert
from .log import logger
from .pb import goplugin_pb2 as gp
from .schema import check_schema
from .server import Server

MAGIC_COOKIE_KEY = "EBMFLOW_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "7c1b4a0e-ebmflow-energy-based-models"
CORE_PROTOCOL = 1  # go-plugin's own protocol version

_KINDS = (kinds.ENERGY, kinds.SAMPLER, kinds.DATA, kinds.DIAGNOSTICS)


def description(impl):
    """What `describe` prints: info and schema, with the Go SDK's field
    names."""
    info = {"name": impl.name, "kind": impl.kind, "version": impl.version,
            "protocol": kinds.PROTOCOL_VERSION}
    if impl.description:
        info["description"] = impl.description
    return {"info": info, "schema": {"attributes": [a.to_json() for a in impl.schema]}}


def _problems(impl):
    out = []
    if impl.kind not in _KINDS:
        out.append("kind %r is none of %s" % (impl.kind, ", ".join(_KINDS)))
    if not impl.name:
        out.append("no name")
    return out + check_schema(impl.schema)


SUPPORTED = (kinds.PROTOCOL_VERSION,)


def _negotiate():
    """The protocol to speak, as go-plugin negotiates it: the highest version
    both the host (PLUGIN_PROTOCOL_VERSIONS) and this SDK speak; without
    one in common, this SDK's own, which the host then refuses, naming
    both."""
    offered = set()
    for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "").split(","):
        try:
            offered.add(int(v))
        except ValueError:
            pass
    common = offered.intersection(SUPPORTED)
    return max(common) if common else max(SUPPORTED)


def _watch_parent(ppid):
    """Exits when the host is gone (re-parented), even after a SIGKILL."""
    try:  # and ask the kernel to kill us with the parent as well
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    while True:
        time.sleep(0.2)
        if os.getppid() != ppid:
            os._exit(3)


def serve(impl, limit=wire.DEFAULT_LIMIT):
    """Runs the plugin process for impl (an instance of a kinds class)."""
    problems = _problems(impl)
    if problems:
        sys.stderr.write("ebmflow plugin %r is not servable: %s\n" % (impl.name, "; ".join(problems)))
        sys.exit(1)
    prog = os.path.basename(sys.argv[0])
    if len(sys.argv) > 1 and sys.argv[1] == "describe":
        sys.stdout.write(json.dumps(description(impl), indent=2) + "\n")
        sys.stdout.flush()
        sys.exit(0)
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write("%s is an ebmflow %s plugin (%s %s, protocol %d); ebmflow starts it from a pipeline, and '%s describe' prints its schema\n"
                         % (prog, impl.kind, impl.name, impl.version, kinds.PROTOCOL_VERSION, prog))
        sys.exit(1)
    # SIGINT and SIGTERM are for the host: it checkpoints, then ends its plugins.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    version = _negotiate()

    der, cert_pem, key_pem = make_cert()
    host_pem = os.environ.get("PLUGIN_CLIENT_CERT", "").encode()
    if not host_pem:
        sys.stderr.write("%s: PLUGIN_CLIENT_CERT is not set; ebmflow hosts always use AutoMTLS\n" % prog)
        sys.exit(1)
    broker = Broker(cert_pem, key_pem, host_pem)
    srv = Server(impl, limit, broker)
    opts = [("grpc.max_receive_message_length", wire.MAX_MESSAGE_SIZE),
            ("grpc.max_send_message_length", wire.MAX_MESSAGE_SIZE),
            ("grpc.http2.initial_window_size", 16 << 20)]  # tolerated if unknown
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=16), options=opts)
    done = threading.Event()

    def shutdown(_req, _context):
        done.set()
        return gp.Empty()

    def health(_req, _context):
        return gp.HealthCheckResponse(status=gp.HealthCheckResponse.SERVING)

    u = grpc.unary_unary_rpc_method_handler
    server.add_generic_rpc_handlers(srv.handlers() + [
        grpc.method_handlers_generic_handler("plugin.GRPCController", {
            "Shutdown": u(shutdown, gp.Empty.FromString, gp.Empty.SerializeToString)}),
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": u(health, gp.HealthCheckRequest.FromString, gp.HealthCheckResponse.SerializeToString)}),
        grpc.method_handlers_generic_handler("plugin.GRPCBroker", {
            "StartStream": grpc.stream_stream_rpc_method_handler(broker.stream, gp.ConnInfo.FromString, gp.ConnInfo.SerializeToString)}),
    ])
    creds = grpc.ssl_server_credentials([(key_pem, cert_pem)], root_certificates=host_pem, require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", creds)
    if not port:
        sys.stderr.write("%s: cannot listen on 127.0.0.1\n" % prog)
        sys.exit(1)
    server.start()
    line = "%d|%d|tcp|127.0.0.1:%d|grpc|%s\n" % (CORE_PROTOCOL, version, port, base64.b64encode(der).decode().rstrip("="))
    sys.stdout.write(line)
    sys.stdout.flush()
    # From now on stdout belongs to nobody: whatever the plugin or a library
    # prints goes to stderr, where the host relays it.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logger().debug("plugin serving", extra={"fields": {"port": port, "protocol": version}})
    done.wait()
    for ch in srv.channels:
        ch.close()
    server.stop(0.5).wait(1.0)
    sys.stderr.flush()
    os._exit(0)
