"""Schema defaults and validation, as rpc.BuildConfig does them."""

import json
import unittest

from ebmflow_plugin import BOOL, INT, LIST_NUMBER, NUMBER, STRING, Attribute, build_config, stage_ref
from ebmflow_plugin.schema import check_schema

SCHEMA = [
    Attribute("epsilon", NUMBER, "noise", required=True),
    Attribute("steps", INT, "steps", default=10),
    Attribute("init", STRING, "init", default="noise", enum=["noise", "data"]),
    Attribute("mala", BOOL, "mala", default=False),
    Attribute("band", LIST_NUMBER, "band", default=[0.1, 0.2]),
    Attribute("energy", stage_ref("energy"), "the energy"),
]


class SchemaTest(unittest.TestCase):
    def test_defaults_and_links(self):
        cfg, d = build_config(SCHEMA, "s", 7, "", json.dumps({"epsilon": 0.1}), {"energy": "e"})
        self.assertFalse(d.has_errors(), d)
        self.assertEqual(cfg.int("steps"), 10)
        self.assertEqual(cfg.string("init"), "noise")
        self.assertEqual(cfg.get("band"), [0.1, 0.2])
        self.assertEqual(cfg.string("energy"), "e")
        self.assertEqual(cfg.seed, 7)

    def test_errors(self):
        vals = {"steps": 1.5, "init": "bank", "mala": 1, "bogus": 3, "band": ["a"]}
        cfg, d = build_config(SCHEMA, "s", 0, "", json.dumps(vals), {})
        paths = sorted(x["path"][0] for x in d if x["severity"] == "error")
        self.assertEqual(paths, ["band", "bogus", "epsilon", "init", "mala", "steps"])
        _, d = build_config(SCHEMA, "s", 0, "", "[1]", {})
        self.assertTrue(d.has_errors())

    def test_check_schema(self):
        self.assertEqual(check_schema(SCHEMA), [])
        bad = [Attribute("Bad", NUMBER, "x"), Attribute("a", "tensor", "x"), Attribute("b", INT, ""),
               Attribute("c", INT, "x", default=1.5), Attribute("d", STRING, "x", default="z", enum=["y"]),
               Attribute("e", NUMBER, "x", default=1.0, required=True)]
        self.assertEqual(len(check_schema(bad)), 6)


    def test_bounds(self):
        schema = [Attribute("steps", INT, "steps", default=10, min=1, max=1e6),
                  Attribute("eps", NUMBER, "noise", default=0.1, min=0, min_exclusive=True),
                  Attribute("band", LIST_NUMBER, "band", default=[0.1], min=0, max=1)]
        self.assertEqual(check_schema(schema), [])
        self.assertEqual(schema[0].to_json()["min"], 1.0)
        self.assertEqual(schema[0].to_json()["max"], 1e6)
        self.assertTrue(schema[1].to_json()["min_exclusive"])
        self.assertNotIn("max", schema[1].to_json())
        self.assertEqual(schema[1].bounds_text(), "(0, inf)")
        _, d = build_config(schema, "s", 0, "", json.dumps({"steps": 1e12, "eps": 0, "band": [0.5, 2]}), {})
        got = {x["path"][0]: x["detail"] for x in d}
        self.assertEqual(got, {
            "steps": "steps = 1e+12 is above the maximum 1000000 (range [1, 1000000])",
            "eps": "eps = 0 is not above the minimum 0 (range (0, inf))",
            "band": "band = 2 is above the maximum 1 (range [0, 1])",
        })
        _, d = build_config(schema, "s", 0, "", json.dumps({"steps": 1000000, "eps": 1e-9, "band": [0, 1]}), {})
        self.assertFalse(d.has_errors(), d)
        bad = [Attribute("a", STRING, "x", min=0), Attribute("b", NUMBER, "x", min=2, max=1),
               Attribute("c", INT, "x", default=0, min=1), Attribute("d", NUMBER, "x", min=1, max=1, max_exclusive=True)]
        self.assertEqual(len(check_schema(bad)), 4, check_schema(bad))


if __name__ == "__main__":
    unittest.main()
