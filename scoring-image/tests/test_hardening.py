"""Hostile input to the hosting code: keys in URLs, deep JSON, NaN, huge bodies and blobs."""

import io
import json
import logging
import sys

from aml_host.blob import BlobScoringError, read_blob, score_blob
from aml_host.http import handle_http, log_label
from aml_host.json_output import to_json_bytes
from aml_host.response import AMLResponse
from aml_host.results import ResultError, result_to_bytes
from aml_host.script import InitRetryPolicy

from . import test_http
from .helpers import ScriptTestCase

SECRET = "SECRETKEY123"
DEEP = ("[" * 5000 + "]" * 5000).encode()  # past the interpreter's recursion limit (1000)


class CaptureAll(logging.Handler):
    """Every record of every logger, formatted with its traceback (what a log sink would get)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


class EnvTestCase(ScriptTestCase):
    def schema_script(self, name="s.py"):
        test_http.SchemaModeTest.install_fake_inference_schema(self)
        return self.script("from inference_schema.schema_decorators import input_schema\n"
                           "def init(): pass\n"
                           "@input_schema('data', None)\n"
                           "def run(data): return data\n", name=name)


class KeysNotLoggedTest(EnvTestCase):
    def capture(self):
        handler = CaptureAll()
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        self.addCleanup(root.removeHandler, handler)
        self.addCleanup(root.setLevel, old_level)
        return handler

    def test_no_log_record_holds_the_key_query_headers_or_body(self):
        self.set_env(AML_MAX_REQUEST_BYTES="20000")
        url = f"https://app.azurewebsites.net/api/score?code={SECRET}&x=1"
        headers = {"x-functions-key": SECRET + "H", "Content-Type": "application/json"}
        raising = self.script("def init(): pass\ndef run(d):\n    raise ValueError('boom')\n", name="r.py")
        unserialisable = self.script("def init(): pass\ndef run(d): return object()\n", name="u.py")
        schema = self.schema_script()
        failing = self.script("def init():\n    raise OSError('no model')\ndef run(d): return d\n", name="f.py",
                              policy=InitRetryPolicy(first_delay=60, max_delay=60, trigger_wait=1, http_wait=5))
        handler = self.capture()
        statuses = [
            handle_http("POST", url, headers, {"code": SECRET}, b'{"body": "' + SECRET.encode() + b'B"}',
                        script=raising).status,
            handle_http("POST", url, headers, {"code": SECRET}, b"\xff" + SECRET.encode(), script=raising).status,
            handle_http("POST", url, headers, {"code": SECRET}, b"x" * 20001, script=raising).status,
            handle_http("POST", url, headers, {"code": SECRET}, b"{}", script=unserialisable).status,
            handle_http("POST", url, headers, {"code": SECRET}, SECRET.encode(), script=schema).status,
            handle_http("POST", url, headers, {"code": SECRET}, DEEP, script=schema).status,
            handle_http("POST", url, headers, {"code": SECRET}, b"{}", script=failing).status,
        ]
        self.assertEqual(statuses, [500, 400, 413, 500, 415, 400, 503])
        self.assertTrue(handler.lines)
        self.assertTrue(any("POST /api/score" in line for line in handler.lines))
        leaked = [line for line in handler.lines if SECRET in line or "code=" in line]
        self.assertEqual(leaked, [])

    def test_log_label_is_method_and_path(self):
        self.assertEqual(log_label("post", f"https://h/api/score?code={SECRET}#frag"), "POST /api/score")
        self.assertEqual(log_label(None, None), "POST /")
        self.assertEqual(log_label("GET", "http://[::1"), "GET <unparsable URL>")


class NeverRaisesTest(EnvTestCase):
    def test_deep_json_for_a_schema_script_is_400(self):
        script = self.schema_script()
        with self.assertLogs("aml_host", level="WARNING"):
            result = handle_http("POST", "http://h/api/score", {}, {}, b'{"data": ' + DEEP + b"}", script=script)
        self.assertEqual(result.status, 400)
        self.assertIn("nested too deeply", result.json()["message"])

    def test_deep_json_parsed_by_the_script_itself_is_500(self):
        script = self.script("import json\ndef init(): pass\ndef run(d): return json.loads(d)\n")
        with self.assertLogs("aml_host", level="ERROR"):
            result = handle_http("POST", "http://h/api/score", {}, {}, DEEP, script=script)
        self.assertEqual(result.status, 500)
        self.assertNotIn("Recursion", result.body.decode())

    def test_deeply_nested_result_is_500(self):
        script = self.script("def init(): pass\ndef run(d):\n    x = []\n    for _ in range(100000):\n"
                             "        x = [x]\n    return x\n")
        with self.assertLogs("aml_host", level="ERROR"):
            self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"x", script=script).status, 500)

    def test_system_exit_in_run_is_500(self):
        script = self.script("import sys\ndef init(): pass\ndef run(d):\n    sys.exit(3)\n")
        with self.assertLogs("aml_host", level="ERROR"):
            self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"x", script=script).status, 500)

    def test_broken_amlresponse_is_500(self):
        script = self.script(
            "class AMLResponse:\n    status_code = 'not a number'\n    def get_data(self): return b''\n"
            "def init(): pass\ndef run(d): return AMLResponse()\n")
        with self.assertLogs("aml_host", level="ERROR"):
            self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"x", script=script).status, 500)


class NonFiniteNumbersTest(EnvTestCase):
    def test_nan_and_infinity_become_null_in_valid_json(self):
        script = self.script("import math\ndef init(): pass\n"
                             "def run(d): return {'p': [0.5, float('nan'), math.inf, -math.inf], 'n': 1}\n")
        with self.assertLogs("aml_host", level="WARNING") as logs:
            result = handle_http("POST", "http://h/s", {}, {}, b"x", script=script)
        self.assertEqual(result.status, 200)
        strict = json.loads(result.body, parse_constant=lambda c: self.fail(f"invalid JSON constant {c}"))
        self.assertEqual(strict, {"p": [0.5, None, None, None], "n": 1})
        self.assertIn("3 non-finite", "\n".join(logs.output))

    def test_blob_and_queue_results_and_amlresponse_json_are_strict(self):
        with self.assertLogs("aml_host", level="WARNING"):
            self.assertEqual(result_to_bytes((1.0, float("inf"))), b"[1.0, null]")
            self.assertEqual(AMLResponse({"x": float("nan")}, 200, json_str=True).get_data(), b'{"x": null}')
        self.assertEqual(to_json_bytes({"a": 1.5}), b'{"a": 1.5}')
        nested = []
        for _ in range(100000):
            nested = [nested]
        with self.assertRaises(ResultError):
            result_to_bytes(nested)

    def test_numpy_nan_becomes_null(self):
        try:
            import numpy as np
        except ImportError:
            self.skipTest("numpy not installed")  # the sklearn tests cover numpy in CI
        with self.assertLogs("aml_host", level="WARNING"):
            self.assertEqual(to_json_bytes([np.float64("nan"), np.float64(2.0)]), b"[null, 2.0]")


class SizeLimitTest(EnvTestCase):
    ECHO = "def init(): pass\ndef run(d): return len(d)\n"

    def test_request_over_the_limit_is_413_without_calling_run(self):
        self.set_env(AML_MAX_REQUEST_BYTES="16")
        script = self.script("CALLS = []\ndef init(): pass\ndef run(d):\n    CALLS.append(d)\n    return len(d)\n")
        self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"x" * 16, script=script).json(), 16)
        with self.assertLogs("aml_host", level="WARNING") as logs:
            big = handle_http("POST", "http://h/s", {}, {}, b"x" * 17, script=script)
        self.assertEqual(big.status, 413)
        self.assertIn("AML_MAX_REQUEST_BYTES", big.json()["message"])
        self.assertIn("17 bytes", "\n".join(logs.output))
        self.assertEqual(len(script.module.CALLS), 1)

    def test_default_request_limit_is_the_front_ends_100_mib(self):
        from aml_host.settings import max_blob_bytes, max_request_bytes

        self.assertEqual(max_request_bytes({}), 104857600)
        self.assertEqual(max_blob_bytes({}), 104857600)
        with self.assertLogs("aml_host", level="WARNING"):
            self.assertEqual(max_request_bytes({"AML_MAX_REQUEST_BYTES": "lots"}), 104857600)
        self.assertEqual(max_blob_bytes({"AML_MAX_BLOB_BYTES": "2048"}), 2048)

    def test_blob_read_is_bounded(self):
        class Stream(io.BytesIO):
            length = None
            asked = []

            def read(self, size=-1):
                self.asked.append(size)
                return super().read(size)

        stream = Stream(b"y" * 10_000)
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError) as err:
                read_blob("input/big.json", stream, limit=100)
        self.assertEqual(stream.asked, [101])
        self.assertIn("AML_MAX_BLOB_BYTES", str(err.exception))
        self.assertIn("input/big.json", str(err.exception))
        self.assertEqual(read_blob("input/ok.json", Stream(b"z" * 100), limit=100), b"z" * 100)

    def test_blob_with_known_length_over_the_limit_is_not_read(self):
        class Stream:
            length = 5 * 1024 ** 3

            def read(self, size=-1):
                raise AssertionError("read() called for a blob known to be too large")

        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError) as err:
                read_blob("input/huge.json", Stream(), limit=100)
        self.assertIn(str(5 * 1024 ** 3), str(err.exception))

    def test_score_blob_refuses_over_the_limit(self):
        self.set_env(AML_MAX_BLOB_BYTES="8")
        script = self.script(self.ECHO)
        self.assertEqual(score_blob("input/a", b"12345678", script=script), b"8")
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError):
                score_blob("input/a", b"123456789", script=script)
        self.assertFalse(sys.getrecursionlimit() < 100)
