"""Errors a plugin raises, and how they cross the wire.

They mirror the Go SDK's sentinels: ``Unsupported`` (sdk.ErrUnsupported,
sent as gRPC UNIMPLEMENTED so that a Go caller can test it with errors.Is),
``ShapeError`` (sdk.ErrShape) and ``NonFinite`` (sdk.ErrNonFinite). Any other
exception raised by a call becomes an UNKNOWN status whose message names the
stage and the call, exactly as the Go SDK reports an error.
"""

import grpc


class PluginError(Exception):
    """Base class of the SDK's errors."""

    code = grpc.StatusCode.UNKNOWN


class Unsupported(PluginError):
    """An optional operation the plugin does not offer (sdk.ErrUnsupported)."""

    code = grpc.StatusCode.UNIMPLEMENTED

    def __init__(self, what=""):
        super().__init__((what + ": " if what else "") + "operation not supported by this plugin")


class ShapeError(PluginError):
    """A tensor of the wrong dtype or shape (sdk.ErrShape)."""

    def __init__(self, what):
        super().__init__("shape mismatch: " + what)


class NonFinite(PluginError):
    """A NaN or an infinity where finite values are needed (sdk.ErrNonFinite)."""

    def __init__(self, what):
        super().__init__("non-finite value: " + what)


class Malformed(PluginError):
    """A frame stream that breaks the protocol (wire.ErrMalformed)."""

    def __init__(self, what):
        super().__init__("malformed tensor stream: " + what)


class TooLarge(PluginError):
    """A tensor larger than the decoder's limit (wire.ErrTooLarge)."""

    def __init__(self, what):
        super().__init__("tensor too large: " + what)


class LinkError(PluginError):
    """A call to a linked stage failed; ``code`` is the callee's status."""

    def __init__(self, stage, method, code, message, failure=None):
        super().__init__("stage %r: %s: %s" % (stage, method, message))
        self.code = code
        self.failure = failure  # serialized CallFailure details, if any


def status_code(err):
    """The gRPC status code an exception is sent with."""
    if isinstance(err, PluginError):
        return err.code
    if isinstance(err, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED
    return grpc.StatusCode.UNKNOWN
