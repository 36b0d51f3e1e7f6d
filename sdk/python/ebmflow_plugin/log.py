"""The plugin's logger: JSON lines on stderr with zerolog's field names
(level, time, message), which the host relays into its own log with the
plugin's and stage's names at each line's level. The host passes its level in
EBMFLOW_PLUGIN_LOG_LEVEL."""

import datetime
import json
import logging
import os

LOG_LEVEL_ENV = "EBMFLOW_PLUGIN_LOG_LEVEL"

_LEVELS = {"trace": 5, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "error": logging.ERROR, "fatal": logging.CRITICAL, "panic": logging.CRITICAL, "disabled": 100}
_NAMES = {5: "trace", logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
          logging.ERROR: "error", logging.CRITICAL: "fatal"}


class JSONHandler(logging.Handler):
    """Writes each record as one zerolog-style JSON line to a stream (the
    real stderr, file descriptor 2, by default)."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream

    def emit(self, record):
        try:
            line = {"level": _NAMES.get(record.levelno, "info"),
                    "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "message": record.getMessage()}
            extra = getattr(record, "fields", None)
            if extra:
                for k, v in extra.items():
                    line.setdefault(k, v)
            if record.exc_info:
                line["error"] = self.formatException(record.exc_info).splitlines()[-1]
            s = json.dumps(line, default=str) + "\n"
            if self.stream is not None:
                self.stream.write(s)
                self.stream.flush()
            else:
                os.write(2, s.encode())
        except Exception:
            self.handleError(record)


_logger = None


def logger():
    """The plugin's logger (a logging.Logger named "ebmflow.plugin"). Pass
    structured fields as ``extra={"fields": {...}}``."""
    global _logger
    if _logger is None:
        lg = logging.getLogger("ebmflow.plugin")
        lg.propagate = False
        lg.addHandler(JSONHandler())
        lg.setLevel(_LEVELS.get(os.environ.get(LOG_LEVEL_ENV, "").lower(), logging.INFO))
        _logger = lg
    return _logger
