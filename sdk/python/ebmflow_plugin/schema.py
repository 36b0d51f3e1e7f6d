"""The stage block: attributes, their defaults and checks, diagnostics and
the decoded configuration a plugin's ``configure`` receives."""

import json
import math
import re

STRING, NUMBER, INT, BOOL = "string", "number", "int", "bool"
LIST_NUMBER, LIST_STRING = "list(number)", "list(string)"
TYPES = (STRING, NUMBER, INT, BOOL, LIST_NUMBER, LIST_STRING)


def stage_ref(kind):
    """The attribute type of a reference to a stage of kind (energy, ...)."""
    return "stage(%s)" % kind


def ref_kind(typ):
    """The kind a stage-reference type names, or None."""
    m = re.fullmatch(r"stage\((\w+)\)", typ)
    return m.group(1) if m else None


class Attribute:
    """One attribute of the stage block: name (snake_case), type (one of
    TYPES or stage_ref(kind)), required, default, doc, enum."""

    def __init__(self, name, type, doc, default=None, required=False, enum=None):
        self.name, self.type, self.doc = name, type, doc
        self.default, self.required, self.enum = default, required, list(enum or [])

    def to_json(self):
        """The attribute as `describe` prints it (the Go SDK's field names)."""
        d = {"name": self.name, "type": self.type}
        if self.required:
            d["required"] = True
        if self.default is not None:
            d["default"] = float(self.default) if self.type in (NUMBER, INT) else self.default
        d["doc"] = self.doc
        if self.enum:
            d["enum"] = self.enum
        return d


ERROR, WARNING = "error", "warning"


class Diagnostics(list):
    """Problems found at configure time. Each is a dict with severity,
    summary, detail and path (the attribute's name as a list, [] for the
    whole block)."""

    def error(self, path, summary, detail=""):
        """Adds an error: the stage cannot run."""
        self.append({"severity": ERROR, "summary": summary, "detail": detail, "path": list(path or [])})

    def warn(self, path, summary, detail=""):
        """Adds a warning."""
        self.append({"severity": WARNING, "summary": summary, "detail": detail, "path": list(path or [])})

    def has_errors(self):
        """Whether any diagnostic is an error."""
        return any(d["severity"] == ERROR for d in self)


class Config:
    """A decoded stage block: ``values`` (attribute name to a JSON value,
    defaults filled in), ``stage``, ``seed``, ``run_dir``, ``upstream`` (the
    shapes linked stages declared, by attribute) and ``links`` (live
    clients of linked stages, by attribute)."""

    def __init__(self, stage="", seed=0, run_dir="", values=None):
        self.stage, self.seed, self.run_dir = stage, seed, run_dir
        self.values = dict(values or {})
        self.upstream = {}
        self.links = {}
        self.observe_tensors = False

    def has(self, name):
        """Whether the attribute has a value (set, or defaulted)."""
        return self.values.get(name) is not None

    def get(self, name, default=None):
        """The attribute's value, or default."""
        v = self.values.get(name)
        return default if v is None else v

    def string(self, name):
        """A string attribute ("" when absent)."""
        return str(self.get(name, ""))

    def float(self, name):
        """A number attribute (0 when absent)."""
        return float(self.get(name, 0.0))

    def int(self, name):
        """A whole-number attribute (0 when absent)."""
        return int(self.get(name, 0))

    def bool(self, name):
        """A bool attribute (False when absent)."""
        return bool(self.get(name, False))

    def link(self, name):
        """The live client of the stage the attribute references."""
        if name not in self.links:
            raise KeyError("attribute %r links no stage" % name)
        return self.links[name]

    def want_tensors(self):
        """Diagnostics stages: ask for each record's positives and negatives."""
        self.observe_tensors = True


def _type_ok(a, v):
    if a.type == STRING or ref_kind(a.type):
        return isinstance(v, str)
    if a.type == BOOL:
        return isinstance(v, bool)
    if a.type in (NUMBER, INT):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        return a.type == NUMBER or (math.isfinite(v) and v == int(v))
    if a.type in (LIST_NUMBER, LIST_STRING):
        want = str if a.type == LIST_STRING else (int, float)
        return isinstance(v, list) and all(isinstance(x, want) and not isinstance(x, bool) for x in v)
    return True


def build_config(schema, stage, seed, run_dir, values_json, linked):
    """Decodes a values JSON object against schema: unknown attributes,
    missing required ones and wrong types become error diagnostics, defaults
    are filled in, and a stage reference's value is the linked stage's name
    (from linked, attribute to stage). Returns (config, diagnostics)."""
    diags = Diagnostics()
    cfg = Config(stage, seed, run_dir)
    if values_json.strip():
        try:
            values = json.loads(values_json)
        except ValueError as e:
            diags.error([], "Invalid configuration", "the configuration is not a JSON object: %s" % e)
            return cfg, diags
        if not isinstance(values, dict):
            diags.error([], "Invalid configuration", "the configuration is not a JSON object")
            return cfg, diags
        cfg.values = {k: v for k, v in values.items() if v is not None}
    for attr, target in linked.items():
        if not cfg.has(attr):
            cfg.values[attr] = target
    by_name = {a.name: a for a in schema}
    for name in sorted(cfg.values):
        a = by_name.get(name)
        if a is None:
            diags.error([name], "Unsupported argument", "an argument named %r is not expected here" % name)
        elif not _type_ok(a, cfg.values[name]):
            diags.error([name], "Invalid value", "want a value of type %s, got %s" % (a.type, json.dumps(cfg.values[name])))
        elif a.enum and cfg.values[name] not in a.enum:
            diags.error([name], "Invalid value", "%s is not one of %s" % (json.dumps(cfg.values[name]), json.dumps(a.enum)))
    for a in schema:
        if cfg.has(a.name):
            continue
        if a.required:
            diags.error([a.name], "Missing required argument", "the argument %r is required" % a.name)
        elif a.default is not None:
            cfg.values[a.name] = a.default
    return cfg, diags


def check_schema(schema):
    """Problems with a schema itself (names, types, docs, defaults), as
    strings; the SDK refuses to serve a plugin whose schema has any."""
    out = []
    for a in schema:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", a.name) or a.name == "plugin":
            out.append("attribute %r: name must be snake_case and not 'plugin'" % a.name)
        if a.type not in TYPES and not ref_kind(a.type):
            out.append("attribute %r: unknown type %r" % (a.name, a.type))
        if not a.doc:
            out.append("attribute %r: no doc" % a.name)
        if a.required and a.default is not None:
            out.append("attribute %r: both required and defaulted" % a.name)
        if a.default is not None and not _type_ok(a, a.default):
            out.append("attribute %r: default %r is not a %s" % (a.name, a.default, a.type))
        if a.default is not None and a.enum and a.default not in a.enum:
            out.append("attribute %r: default %r is not in its enum" % (a.name, a.default))
    return out
