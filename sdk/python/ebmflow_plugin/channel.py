"""Shared-memory channels (docs/channel.md) in Python: not available yet;
every call goes as gRPC frames."""


def enabled():
    """Whether this process can serve and dial channels."""
    return False
