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


if __name__ == "__main__":
    unittest.main()
