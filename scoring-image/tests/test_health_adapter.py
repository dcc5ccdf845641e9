"""The health and blob adapters with the stand-in azure.functions (the real worker runs them in
the jest test __tests__/project/real-worker.test.ts)."""

import asyncio
import importlib
import inspect
import json
import typing

from .test_adapters import AdapterTestCase


class HealthAdapterTest(AdapterTestCase):
    def setUp(self):
        super().setUp()
        import sys

        saved = sys.modules.pop("adapters.health_adapter", None)
        self.addCleanup(lambda: sys.modules.pop("adapters.health_adapter", None) if saved is None
                        else sys.modules.__setitem__("adapters.health_adapter", saved))

    def test_loading_starts_init_and_health_turns_200(self):
        import aml_host.script as script_mod

        script = script_mod._default_script
        self.assertEqual(script.state, "new")
        adapter = importlib.import_module("adapters.health_adapter")
        self.assertNotEqual(script.state, "new")  # loading the function started init()
        self.assertTrue(inspect.iscoroutinefunction(adapter.main))
        script.wait_until_ready(30)
        resp = asyncio.run(adapter.main(self.func.HttpRequest("GET", "https://h/api/health")))
        self.assertIsInstance(resp, self.func.HttpResponse)
        self.assertEqual((resp.status_code, json.loads(resp.body)), (200, {"status": "ready"}))
        self.assertEqual(list(typing.get_type_hints(adapter.main)), ["req", "return"])

    def test_generated_function_module_imports_main(self):
        ns = {}
        exec("from adapters.health_adapter import main  # noqa: F401", ns)
        self.assertTrue(callable(ns["main"]))


class BlobAdapterLimitTest(AdapterTestCase):
    def test_blob_over_the_limit_is_refused_and_nothing_written(self):
        self.set_env(AML_MAX_BLOB_BYTES="4")
        adapter = importlib.import_module("adapters.blob_adapter")
        blob, out = self.func.InputStream("input/big.json", b'{"x": 2}'), self.func.Out()
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(Exception) as err:
                adapter.main(blob, out)
        self.assertIn("AML_MAX_BLOB_BYTES", str(err.exception))
        self.assertEqual(out.calls, 0)
