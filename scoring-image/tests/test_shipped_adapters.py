"""Adapter kinds are open: a function's aml.json may name a kind whose adapter its trigger shipped
into ``adapters/`` (the library copies it there as ``<kind>_adapter.py``), besides the image's own."""

import json
import os
import shutil
import tempfile
import unittest
from unittest import mock

from aml_host import settings


class ShippedAdapterKindsTest(unittest.TestCase):
    def setUp(self):
        self.adapters = tempfile.mkdtemp(prefix="adapters_")
        self.addCleanup(shutil.rmtree, self.adapters, ignore_errors=True)
        with open(os.path.join(self.adapters, "timer_adapter.py"), "w", encoding="utf-8") as f:
            f.write("def main(timer):\n    pass\n")

    def test_the_image_adapters_are_found_where_the_image_puts_them(self):
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.assertEqual(settings.ADAPTERS_DIR, os.path.join(here, "adapters"))
        for kind in settings.VALID_KINDS:
            self.assertTrue(os.path.isfile(os.path.join(settings.ADAPTERS_DIR, f"{kind}_adapter.py")), kind)

    def test_a_kind_is_an_adapter_kind_when_its_module_is_in_adapters(self):
        self.assertTrue(settings.is_adapter_kind("timer", self.adapters))
        self.assertTrue(settings.is_adapter_kind("http", self.adapters))
        for kind in ("ftp", "Timer", "timer_adapter", "../timer", "timer/..", "", None, 3, ["timer"]):
            self.assertFalse(settings.is_adapter_kind(kind, self.adapters), kind)

    def test_load_function_settings_accepts_a_shipped_kind_and_refuses_others(self):
        function_dir = tempfile.mkdtemp(prefix="fn_")
        self.addCleanup(shutil.rmtree, function_dir, ignore_errors=True)

        def load(kind):
            with open(os.path.join(function_dir, "aml.json"), "w", encoding="utf-8") as f:
                json.dump({"kind": kind, "input": "x"}, f)
            return settings.load_function_settings(function_dir)

        with mock.patch.object(settings, "ADAPTERS_DIR", self.adapters):
            self.assertEqual(load("timer"), {"kind": "timer", "input": "x"})
            with self.assertRaisesRegex(ValueError, "or a kind whose adapters/<kind>_adapter.py its trigger shipped"):
                load("cron")
        # Without the module in adapters/, the same kind is refused.
        with self.assertRaisesRegex(ValueError, "'kind' must be one of http, blob, servicebus, health"):
            load("timer")


if __name__ == "__main__":
    unittest.main()
