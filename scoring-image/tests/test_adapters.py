"""Adapter wiring, tested up to the edge: azure.functions cannot be installed here, so a tiny
fake of the few names the adapters use is injected into sys.modules (the Service Bus SDK's
stand-in is tests/fake_servicebus_sdk.py). This checks the conversions and call order, not the
real SDKs' behaviour."""

import importlib
import json
import os
import sys
import types
import typing

import aml_host.script as script_mod

from .helpers import ScriptTestCase

def _fake_modules():
    func = types.ModuleType("azure.functions")

    class HttpRequest:
        def __init__(self, method, url, headers=None, params=None, body=b""):
            self.method, self.url, self.headers, self.params, self._body = method, url, headers or {}, params or {}, body

        def get_body(self):
            return self._body

    class HttpResponse:
        def __init__(self, body=None, *, status_code=None, headers=None, mimetype=None, charset=None):
            self.body, self.status_code, self.headers = body, status_code, headers

    class InputStream:
        def __init__(self, name, data):
            self.name, self._data, self.reads = name, data, 0

        def read(self, size=-1):
            self.reads += 1
            return self._data

    class Out(typing.Generic[typing.TypeVar("T")]):
        def __init__(self):
            self.value, self.calls = None, 0

        def set(self, value):
            self.value, self.calls = value, self.calls + 1

        def get(self):
            return self.value

    class ServiceBusMessage:
        def __init__(self, body, message_id, delivery_count=1, content_type="application/json"):
            self._body, self.message_id, self.delivery_count, self.content_type = body, message_id, delivery_count, content_type

        def get_body(self):
            return self._body

    class Context:
        def __init__(self, function_directory):
            self.function_directory = function_directory

    for cls in (HttpRequest, HttpResponse, InputStream, Out, ServiceBusMessage, Context):
        setattr(func, cls.__name__, cls)

    azure = types.ModuleType("azure")
    azure.__path__ = []
    azure.functions = func
    return {"azure": azure, "azure.functions": func}


class AdapterTestCase(ScriptTestCase):
    SCRIPT = """
        import json
        def init(): pass
        def run(data):
            obj = json.loads(data)
            if obj.get("bad"):
                raise ValueError("bad")
            return {"double": obj["x"] * 2}
    """

    def setUp(self):
        super().setUp()
        fakes = _fake_modules()
        saved = {name: sys.modules.get(name) for name in list(fakes) + [
            "adapters", "adapters.http_adapter", "adapters.blob_adapter", "adapters.servicebus_adapter"]}

        def restore():
            for name, mod in saved.items():
                if mod is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = mod
        self.addCleanup(restore)
        for name in saved:
            sys.modules.pop(name, None)
        sys.modules.update(fakes)
        self.func = fakes["azure.functions"]
        saved_script = script_mod._default_script
        self.addCleanup(setattr, script_mod, "_default_script", saved_script)
        script_mod._default_script = self.script(self.SCRIPT)

    def function_dir(self, settings):
        d = os.path.join(self.tmp, "app", "score-sb")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "aml.json"), "w") as f:
            json.dump(settings, f)
        return d


class HttpAdapterTest(AdapterTestCase):
    def test_converts_request_and_response(self):
        adapter = importlib.import_module("adapters.http_adapter")
        req = self.func.HttpRequest("POST", "https://h/api/score", {"Content-Type": "application/json"}, {},
                                    b'{"x": 21}')
        resp = adapter.main(req)
        self.assertIsInstance(resp, self.func.HttpResponse)
        self.assertEqual((resp.status_code, resp.body), (200, b'{"double": 42}'))
        self.assertEqual(resp.headers["Content-Type"], "application/json")
        with self.assertLogs("aml_host", level="ERROR"):
            resp = adapter.main(self.func.HttpRequest("POST", "https://h/api/score", {}, {}, b'{"bad": 1}'))
        self.assertEqual(resp.status_code, 500)

    def test_generated_function_module_imports_main(self):
        # What the TS side generates as <functionName>/__init__.py.
        ns = {}
        exec("from adapters.http_adapter import main  # noqa: F401", ns)
        self.assertTrue(callable(ns["main"]))
        self.assertEqual(list(typing.get_type_hints(ns["main"])), ["req", "return"])


class BlobAdapterTest(AdapterTestCase):
    def test_sets_output_on_success(self):
        adapter = importlib.import_module("adapters.blob_adapter")
        blob, out = self.func.InputStream("input/a.json", b'{"x": 2}'), self.func.Out()
        adapter.main(blob, out)
        self.assertEqual((out.calls, out.value), (1, b'{"double": 4}'))

    def test_raises_and_sets_nothing_on_failure(self):
        adapter = importlib.import_module("adapters.blob_adapter")
        blob, out = self.func.InputStream("input/bad.json", b'{"bad": 1}'), self.func.Out()
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(Exception) as err:
                adapter.main(blob, out)
        self.assertIn("input/bad.json", str(err.exception))
        self.assertEqual(out.calls, 0)

    def test_binding_names(self):
        adapter = importlib.import_module("adapters.blob_adapter")
        self.assertEqual(list(typing.get_type_hints(adapter.main)), ["inputblob", "outputblob", "return"])


# The Service Bus adapter's tests are in test_servicebus_adapter.py (stand-in SDK) and
# worker_test_servicebus.py / worker_hostile_servicebus.py (the real Functions worker).
