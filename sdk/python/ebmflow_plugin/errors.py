"""Errors a plugin raises, and how they cross the wire.

They mirror the Go SDK's sentinels and cross the wire with the status codes
internal/rpc/errors.go gives them, so that a Go caller can test them with
errors.Is: ``Unsupported`` (sdk.ErrUnsupported, UNIMPLEMENTED),
``ShapeError`` (sdk.ErrShape, INVALID_ARGUMENT), ``NonFinite``
(sdk.ErrNonFinite, OUT_OF_RANGE), and ``DeadlineExceeded`` (the caller's
deadline passed: context.DeadlineExceeded, DEADLINE_EXCEEDED). Any other
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

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, what):
        super().__init__("shape mismatch: " + what)


class NonFinite(PluginError):
    """A NaN or an infinity where finite values are needed (sdk.ErrNonFinite)."""

    code = grpc.StatusCode.OUT_OF_RANGE

    def __init__(self, what):
        super().__init__("non-finite value: " + what)


class DeadlineExceeded(PluginError):
    """The caller's deadline for the running call has passed
    (context.DeadlineExceeded in Go)."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED

    def __init__(self):
        super().__init__("context deadline exceeded")


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
