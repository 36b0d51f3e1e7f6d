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
    TYPES or stage_ref(kind)), required, default, doc, enum, and for a
    NUMBER, INT or LIST_NUMBER the bounds min <= v <= max (each None for
    none; strict with min_exclusive / max_exclusive), which the host checks
    before anything runs."""

    def __init__(self, name, type, doc, default=None, required=False, enum=None,
                 min=None, max=None, min_exclusive=False, max_exclusive=False):
        self.name, self.type, self.doc = name, type, doc
        self.default, self.required, self.enum = default, required, list(enum or [])
        self.min = None if min is None else float(min)
        self.max = None if max is None else float(max)
        self.min_exclusive, self.max_exclusive = bool(min_exclusive), bool(max_exclusive)

    def bounds_text(self):
        """The bounds as an interval, "[1, 1000000]" or "(0, inf)"; "" for none."""
        if self.min is None and self.max is None:
            return ""
        lo = "-inf" if self.min is None else _num(self.min)
        hi = "inf" if self.max is None else _num(self.max)
        return ("(" if self.min is None or self.min_exclusive else "[") + lo + ", " + hi + \
            (")" if self.max is None or self.max_exclusive else "]")

    def check_bounds(self, v):
        """None when the number v lies within the bounds, else what is wrong
        ("is above the maximum 1000000"), as the Go SDK words it."""
        if v != v:
            return "is not a number"
        if self.min is not None and self.min_exclusive and not v > self.min:
            return "is not above the minimum " + _num(self.min)
        if self.min is not None and not self.min_exclusive and v < self.min:
            return "is below the minimum " + _num(self.min)
        if self.max is not None and self.max_exclusive and not v < self.max:
            return "is not below the maximum " + _num(self.max)
        if self.max is not None and not self.max_exclusive and v > self.max:
            return "is above the maximum " + _num(self.max)
        return None

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
        if self.min is not None:
            d["min"] = self.min
        if self.max is not None:
            d["max"] = self.max
        if self.min_exclusive:
            d["min_exclusive"] = True
        if self.max_exclusive:
            d["max_exclusive"] = True
        return d


def _num(v):
    """A number as the Go SDK's FormatNumber writes it: whole numbers below
    ten million in full, others in the shortest form (1e+12, 0.015)."""
    if v == int(v) and abs(v) < 1e7:
        return "%d" % v
    r = repr(float(v))
    m = re.fullmatch(r"(-?[\d.]+)e([+-])(\d+)", r)
    if m:
        return "%se%s%02d" % (m.group(1).rstrip("0").rstrip(".") if "." in m.group(1) else m.group(1), m.group(2), int(m.group(3)))
    if r.endswith(".0") and abs(v) >= 1e7:
        e = len(r[:-2].lstrip("-")) - 1
        mant = r[:-2].lstrip("-")
        digits = (mant[0] + "." + mant[1:].rstrip("0")).rstrip(".")
        return ("-" if v < 0 else "") + "%se+%02d" % (digits, e)
    return r


def _numbers(a, v):
    """The numbers of a NUMBER, INT or LIST_NUMBER value, for bounds."""
    if a.type in (NUMBER, INT):
        return [v]
    if a.type == LIST_NUMBER:
        return list(v)
    return []


def _bounds_problem(a, v):
    """What is wrong with value v of attribute a against a's bounds, or None."""
    for x in _numbers(a, v):
        why = a.check_bounds(float(x))
        if why:
            return "%s = %s %s (range %s)" % (a.name, _num(float(x)), why, a.bounds_text())
    return None


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
        self.cost = None

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

    def declare_cost(self, grads_per_row=0, draws=()):
        """Declares what the stage's work costs in dF/dx evaluations, for
        ``ebmflow validate``: a sampler's evaluations per chain of a Sample
        call (grads_per_row: L for Langevin), and the Sample calls the stage
        makes through its sampler links, as dicts {"link": ATTRIBUTE,
        "rows": N, "every": ITERATIONS}."""
        self.cost = {"grads_per_row": int(grads_per_row),
                     "draws": [{"link": d["link"], "rows": int(d["rows"]), "every": int(d["every"])} for d in draws]}


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
        elif _bounds_problem(a, cfg.values[name]):
            diags.error([name], "Invalid value", _bounds_problem(a, cfg.values[name]))
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
        if a.bounds_text():
            if a.type not in (NUMBER, INT, LIST_NUMBER):
                out.append("attribute %r: bounds %s need type number, int or list(number), not %s" % (a.name, a.bounds_text(), a.type))
            if a.min is not None and a.max is not None and (a.min > a.max or (a.min == a.max and (a.min_exclusive or a.max_exclusive))):
                out.append("attribute %r: bounds %s admit no value" % (a.name, a.bounds_text()))
            if a.default is not None and _type_ok(a, a.default) and _bounds_problem(a, a.default):
                out.append("attribute %r: default %s" % (a.name, _bounds_problem(a, a.default)))
    return out
