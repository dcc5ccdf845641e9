import json
import os
import sys
import textwrap

from aml_host.http import RUN_FAILED_MESSAGE, handle_http
from aml_host.script import InputMode

from .helpers import ScriptTestCase, forget_modules

URL = "https://app.example/api/score?verbose=1&tag=a&tag=b"

# A stand-in for the inference-schema package that marks functions the way the real one does:
# a registry dict keyed "<module>.<name>" in schema_util, and a wrapper with __wrapped__.
FAKE_SCHEMA_UTIL = """
import inspect
__functions_schema__ = {}

def _inner(func):
    return inspect.unwrap(func)

def _key(func):
    inner = _inner(func)
    return inner.__module__ + "." + inner.__name__
{extra}
"""
FAKE_IS_DECORATED = """
def is_schema_decorated(func):
    return _key(func) in __functions_schema__
"""
FAKE_DECORATORS = """
import functools
from .schema_util import __functions_schema__, _key

def input_schema(param_name, param_type=None, convert_to_provided_type=True):
    def decorate(func):
        __functions_schema__.setdefault(_key(func), {}).setdefault("input", {})[param_name] = param_type
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper
    return decorate

def output_schema(output_type):
    def decorate(func):
        __functions_schema__.setdefault(_key(func), {})["output"] = output_type
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper
    return decorate
"""

SCHEMA_SCRIPT = """
from inference_schema.schema_decorators import input_schema, output_schema

def init():
    pass

@input_schema("data", None)
@input_schema("threshold", None)
@output_schema(None)
def run(data, threshold, scale=1, request_headers=None):
    return {"n": len(data), "threshold": threshold, "scale": scale,
            "ua": (request_headers or {}).get("User-Agent")}
"""


class TextModeTest(ScriptTestCase):
    def test_body_is_utf8_text_and_result_is_json(self):
        script = self.script("""
            def init(): pass
            def run(data):
                return {"type": type(data).__name__, "data": data}
        """)
        r = handle_http("POST", URL, {"Content-Type": "application/json"}, {}, "{\"k\": \"é\"}".encode(), script=script)
        self.assertEqual(script.mode, InputMode.TEXT)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/json")
        self.assertEqual(r.json(), {"type": "str", "data": "{\"k\": \"é\"}"})
        self.assertEqual(r.body, json.dumps({"type": "str", "data": "{\"k\": \"é\"}"}).encode())

    def test_string_result_is_json_encoded(self):
        script = self.script("def init(): pass\ndef run(d): return 'ok'\n")
        self.assertEqual(handle_http("POST", URL, {}, {}, b"", script=script).body, b'"ok"')

    def test_undecodable_body_is_400(self):
        script = self.script("CALLS = []\ndef init(): pass\ndef run(d):\n    CALLS.append(d)\n    return d\n")
        with self.assertLogs("aml_host", level="WARNING"):
            r = handle_http("POST", URL, {}, {}, b"\xff\xfe\xfa", script=script)
        self.assertEqual(r.status, 400)
        self.assertIn("UTF-8", r.json()["message"])
        self.assertEqual(script.module.CALLS, [])

    def test_run_exception_is_generic_500_and_logged(self):
        script = self.script("def init(): pass\ndef run(d):\n    raise ValueError('secret detail 42')\n")
        with self.assertLogs("aml_host", level="ERROR") as logs:
            r = handle_http("POST", URL, {}, {}, b"x", script=script)
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json(), {"message": RUN_FAILED_MESSAGE})
        self.assertNotIn(b"secret", r.body)
        self.assertIn("secret detail 42", "\n".join(logs.output))

    def test_sys_exit_or_keyboard_interrupt_in_run_is_a_500_not_the_end_of_the_worker(self):
        for raised, logged in (("SystemExit(3)", "run() called sys.exit(3)"),
                               ("KeyboardInterrupt()", "run() raised KeyboardInterrupt")):
            script = self.script(f"def init(): pass\ndef run(d):\n    raise {raised}\n")
            with self.assertLogs("aml_host", level="ERROR") as logs:
                r = handle_http("POST", URL, {}, {}, b"x", script=script)
            self.assertEqual(r.status, 500)
            self.assertEqual(r.json(), {"message": RUN_FAILED_MESSAGE})
            self.assertIn(logged, "\n".join(logs.output))

    def test_unserialisable_result_is_500(self):
        script = self.script("def init(): pass\ndef run(d): return object()\n")
        with self.assertLogs("aml_host", level="ERROR"):
            r = handle_http("POST", URL, {}, {}, b"x", script=script)
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json(), {"message": RUN_FAILED_MESSAGE})

    def test_request_headers_parameter_receives_headers(self):
        script = self.script("""
            def init(): pass
            def run(data, request_headers):
                return {"data": data, "headers": request_headers}
        """)
        r = handle_http("POST", URL, {"X-Trace": "t-1", "Content-Type": "text/plain"}, {}, b"hi", script=script)
        self.assertTrue(script.accepts_request_headers)
        self.assertEqual(r.json(), {"data": "hi", "headers": {"X-Trace": "t-1", "Content-Type": "text/plain"}})

    def test_no_request_headers_parameter_means_no_headers_passed(self):
        script = self.script("def init(): pass\ndef run(data, *args, **kwargs): return [data, len(args), kwargs]\n")
        r = handle_http("POST", URL, {"X-Trace": "t-1"}, {}, b"hi", script=script)
        self.assertEqual(r.json(), ["hi", 0, {}])


class RawHttpModeTest(ScriptTestCase):
    RAW = """
        from {module}.aml_request import AMLRequest, rawhttp
        from {module}.aml_response import AMLResponse

        def init(): pass

        @rawhttp
        def run(request):
            if request.method == "GET":
                return AMLResponse("alive", 200, {{"X-Mode": "get"}})
            return {{
                "is_request": isinstance(request, AMLRequest),
                "hex": request.get_data().hex(),
                "method": request.method,
                "ctype": request.headers.get("content-type"),
                "verbose": request.args.get("verbose"),
                "tags": request.args.getlist("tag"),
                "path": request.path,
                "full_path": request.full_path,
            }}
    """

    def check_raw(self, module):
        script = self.script(self.RAW.format(module=module))
        body = b"\x89PNG\x00\xff"
        r = handle_http("POST", URL, {"Content-Type": "image/png"}, {"verbose": "1", "tag": ["a", "b"]}, body,
                        script=script)
        self.assertEqual(script.mode, InputMode.RAW)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {"is_request": True, "hex": body.hex(), "method": "POST", "ctype": "image/png",
                                    "verbose": "1", "tags": ["a", "b"], "path": "/api/score",
                                    "full_path": "/api/score?verbose=1&tag=a&tag=b"})
        g = handle_http("GET", URL, {}, {}, b"", script=script)
        self.assertEqual((g.status, g.body, g.headers["X-Mode"]), (200, b"alive", "get"))

    def test_sdk_v1_module_names(self):
        self.check_raw("azureml.contrib.services")

    def test_inference_server_module_names(self):
        self.check_raw("azureml_inference_server_http.api")

    def test_rawhttp_flag_does_not_leak_into_next_script(self):
        self.check_raw("azureml.contrib.services")
        plain = self.script("def init(): pass\ndef run(d): return d\n", name="plain.py")
        plain.ensure_ready()
        self.assertEqual(plain.mode, InputMode.TEXT)

    def test_query_taken_from_url_when_not_given(self):
        script = self.script(self.RAW.format(module="azureml.contrib.services"))
        r = handle_http("POST", URL, {}, None, b"", script=script)
        self.assertEqual(r.json()["tags"], ["a", "b"])


class AMLResponseTest(ScriptTestCase):
    def test_passthrough_status_headers_body(self):
        script = self.script("""
            from azureml.contrib.services.aml_response import AMLResponse
            def init(): pass
            def run(data):
                if data == "json":
                    return AMLResponse({"a": [1, 2]}, 201, {"X-Id": "7"}, json_str=True)
                if data == "bytes":
                    return AMLResponse(b"\\x00\\x01", 202, {"Content-Type": "application/octet-stream"})
                return AMLResponse("bad input", 422)
        """)
        r = handle_http("POST", URL, {}, {}, b"json", script=script)
        self.assertEqual((r.status, r.headers["X-Id"], r.headers["Content-Type"]), (201, "7", "application/json"))
        self.assertEqual(r.body, json.dumps({"a": [1, 2]}).encode())
        r = handle_http("POST", URL, {}, {}, b"bytes", script=script)
        self.assertEqual((r.status, r.body, r.headers["Content-Type"]), (202, b"\x00\x01", "application/octet-stream"))
        r = handle_http("POST", URL, {}, {}, b"other", script=script)
        self.assertEqual((r.status, r.body), (422, b"bad input"))
        self.assertTrue(r.headers["Content-Type"].startswith("text/html"))

    def test_foreign_amlresponse_duck_typed(self):
        script = self.script("""
            class AMLResponse:  # shaped like AML's werkzeug-based response
                status_code = 207
                headers = [("X-Real", "yes")]
                def get_data(self):
                    return b"real"
            def init(): pass
            def run(d): return AMLResponse()
        """)
        r = handle_http("POST", URL, {}, {}, b"", script=script)
        self.assertEqual((r.status, r.headers, r.body), (207, {"X-Real": "yes"}, b"real"))


class SchemaModeTest(ScriptTestCase):
    def install_fake_inference_schema(self, with_is_decorated=True):
        root = os.path.join(self.tmp, "site")
        pkg = os.path.join(root, "inference_schema")
        os.makedirs(pkg)
        with open(os.path.join(pkg, "__init__.py"), "w") as f:
            f.write("")
        with open(os.path.join(pkg, "schema_util.py"), "w") as f:
            f.write(textwrap.dedent(FAKE_SCHEMA_UTIL).replace("{extra}", FAKE_IS_DECORATED if with_is_decorated else ""))
        with open(os.path.join(pkg, "schema_decorators.py"), "w") as f:
            f.write(textwrap.dedent(FAKE_DECORATORS))
        forget_modules("inference_schema")
        self.addCleanup(forget_modules, "inference_schema")
        sys.path.insert(0, root)

    def check_schema_script(self):
        script = self.script(SCHEMA_SCRIPT)
        r = handle_http("POST", URL, {"User-Agent": "ua/1"}, {},
                        json.dumps({"data": [1, 2, 3], "threshold": 0.5, "ignored": True}).encode(), script=script)
        self.assertEqual(script.mode, InputMode.SCHEMA)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {"n": 3, "threshold": 0.5, "scale": 1, "ua": "ua/1"})
        with self.assertLogs("aml_host", level="WARNING"):
            r = handle_http("POST", URL, {}, {}, b"not json", script=script)
        self.assertEqual(r.status, 415)
        with self.assertLogs("aml_host", level="WARNING"):
            r = handle_http("POST", URL, {}, {}, json.dumps({"data": [1]}).encode(), script=script)
        self.assertEqual(r.status, 400)
        self.assertIn("threshold", r.json()["message"])
        with self.assertLogs("aml_host", level="WARNING"):
            r = handle_http("POST", URL, {}, {}, b"[1, 2]", script=script)
        self.assertEqual(r.status, 400)
        # Valid JSON with an integer longer than Python converts: a 400 that says so, not "not JSON".
        with self.assertLogs("aml_host", level="WARNING"):
            r = handle_http("POST", URL, {}, {}, b'{"data": ' + b"7" * 5000 + b', "threshold": 1}', script=script)
        self.assertEqual(r.status, 400)
        self.assertIn("an integer with more than", r.json()["message"])
        r = handle_http("POST", URL, {}, {}, json.dumps({"data": [], "threshold": 1, "scale": 3}).encode(),
                        script=script)
        self.assertEqual(r.json()["scale"], 3)

    def test_schema_mode_with_package_is_schema_decorated(self):
        self.install_fake_inference_schema(with_is_decorated=True)
        self.check_schema_script()

    def test_schema_mode_from_registry_only(self):
        self.install_fake_inference_schema(with_is_decorated=False)
        self.check_schema_script()

    def test_undecorated_run_stays_text_when_package_loaded(self):
        self.install_fake_inference_schema()
        script = self.script("import inference_schema.schema_decorators\ndef init(): pass\ndef run(d): return d\n")
        self.assertEqual(handle_http("POST", URL, {}, {}, b"plain", script=script).json(), "plain")
        self.assertEqual(script.mode, InputMode.TEXT)

    def test_without_package_nothing_is_schema(self):
        forget_modules("inference_schema")
        script = self.script("def init(): pass\ndef run(data, threshold=0): return [data, threshold]\n")
        self.assertEqual(handle_http("POST", URL, {}, {}, b'{"data": 1}', script=script).json(), ['{"data": 1}', 0])
