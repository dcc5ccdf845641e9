"""A JSON body's parse is bounded (aml_host/json_limits.py): json.loads of nested empty lists costs
~23 bytes of memory per body byte, so one 30 MiB request could take ~700 MiB and, a few at once,
the worker. Bodies with more elements than AML_MAX_JSON_ELEMENTS are refused before anything
parses them, in every trigger."""

import json
import os
import subprocess
import sys
import textwrap

from aml_host.blob import BlobScoringError, score_blob
from aml_host.http import handle_http
from aml_host.json_limits import JsonTooLargeError, count_json_elements, looks_like_json
from aml_host.request import ScoringRequest
from aml_host.servicebus import InboundMessage, MessageScoringError, deliver_batch, score_message
from aml_host.settings import DEFAULT_MAX_JSON_ELEMENTS, max_json_elements

from . import test_http
from .helpers import SCORING_IMAGE, ScriptTestCase
from .servicebus_broker import Broker, message

URL = "https://app.example/api/score"
JSON = {"Content-Type": "application/json"}

# A text-mode script that parses its input, as the sample and most AML scripts do.
PARSING = """
import json
CALLS = []
def init(): pass
def run(data):
    CALLS.append(len(data))
    return {"rows": len(json.loads(data)["data"])}
"""


def rows(n):
    """``{"data":[0,0,...]}`` with n values: 1 '{' + 1 '[' + (n - 1) ',' = n + 1 elements."""
    return b'{"data":[' + b",".join(b"0" for _ in range(n)) + b"]}"


class CountTest(ScriptTestCase):
    def test_counts_brackets_braces_and_commas(self):
        self.assertEqual(count_json_elements(rows(10)), 11)
        self.assertEqual(count_json_elements(b"[[],[],[]]"), 6)
        self.assertEqual(count_json_elements(b'{"a": "x,y"}'), 2)  # inside strings too: a bound from above
        self.assertEqual(count_json_elements(b""), 0)

    def test_which_bodies_are_json(self):
        self.assertTrue(looks_like_json(b'{"a": 1}'))
        self.assertTrue(looks_like_json(b" \r\n\t[1]"))
        self.assertTrue(looks_like_json(b"\xef\xbb\xbf [1]"))
        self.assertTrue(looks_like_json(b" " * 10_000 + b"[1]"))
        self.assertTrue(looks_like_json(b"\xff\xfe[\x00", {"content-TYPE": "application/json; charset=utf-16"}))
        self.assertTrue(looks_like_json(b"x", {"Content-Type": "application/vnd.api+json"}))
        self.assertFalse(looks_like_json(b"1,2,3\n4,5,6\n", {"Content-Type": "text/csv"}))
        self.assertFalse(looks_like_json(b'"[1]"'))
        self.assertFalse(looks_like_json(b""))

    def test_setting(self):
        self.assertEqual(max_json_elements({}), DEFAULT_MAX_JSON_ELEMENTS)
        self.assertEqual(max_json_elements({"AML_MAX_JSON_ELEMENTS": "20000000"}), 20_000_000)
        with self.assertLogs("aml_host", level="WARNING"):
            self.assertEqual(max_json_elements({"AML_MAX_JSON_ELEMENTS": "lots"}), DEFAULT_MAX_JSON_ELEMENTS)


class HttpLimitTest(ScriptTestCase):
    def test_at_the_limit_scores_one_more_is_413_without_run(self):
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        script = self.script(PARSING)
        ok = handle_http("POST", URL, JSON, {}, rows(99), script=script)
        self.assertEqual((ok.status, ok.json()), (200, {"rows": 99}))
        with self.assertLogs("aml_host", level="WARNING") as logs:
            big = handle_http("POST", URL, JSON, {}, rows(100), script=script)
        self.assertEqual(big.status, 413)
        message_text = big.json()["message"]
        self.assertIn("101 elements", message_text)
        self.assertIn("the 100 this app parses", message_text)
        self.assertIn("AML_MAX_JSON_ELEMENTS", message_text)
        self.assertIn("-> 413", "\n".join(logs.output))
        self.assertEqual(script.module.CALLS, [len(rows(99))])

    def test_text_that_is_not_json_is_not_counted(self):
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        script = self.script("def init(): pass\ndef run(d): return d.count(',')\n")
        csv = b"1,2,3,4,5,6,7,8,9,10\n" * 50
        r = handle_http("POST", URL, {"Content-Type": "text/csv"}, {}, csv, script=script)
        self.assertEqual((r.status, r.json()), (200, 450))

    def test_schema_script_is_refused_before_the_host_parses(self):
        test_http.SchemaModeTest.install_fake_inference_schema(self)
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        script = self.script("from inference_schema.schema_decorators import input_schema\n"
                             "def init(): pass\n@input_schema('data', None)\ndef run(data): return len(data)\n")
        self.assertEqual(handle_http("POST", URL, JSON, {}, rows(99), script=script).json(), 99)
        # Leading whitespace and a non-JSON content type change nothing: the host parses it anyway.
        with self.assertLogs("aml_host", level="WARNING"):
            r = handle_http("POST", URL, {"Content-Type": "text/plain"}, {}, b"  " + rows(100), script=script)
        self.assertEqual(r.status, 413)

    def test_rawhttp_script_and_get_json(self):
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        script = self.script("""
            from azureml.contrib.services.aml_request import rawhttp
            def init(): pass
            @rawhttp
            def run(request):
                return request.get_json(force=True, silent=True)
        """)
        utf16 = json.dumps({"data": [0] * 100}).encode("utf-16")
        declared = {"Content-Type": "application/json; charset=utf-16"}
        with self.assertLogs("aml_host", level="WARNING"):
            self.assertEqual(handle_http("POST", URL, declared, {}, utf16, script=script).status, 413)
        # Not recognisable as JSON before run(): get_json() itself refuses, even when silent.
        undeclared = {"Content-Type": "text/plain; charset=utf-16"}
        with self.assertLogs("aml_host", level="WARNING") as logs:
            r = handle_http("POST", URL, undeclared, {}, utf16, script=script)
        self.assertEqual(r.status, 413)
        self.assertIn("AML_MAX_JSON_ELEMENTS", r.json()["message"])
        self.assertIn("-> 413", "\n".join(logs.output))
        small = json.dumps({"data": [0] * 10}).encode("utf-16")
        self.assertEqual(handle_http("POST", URL, undeclared, {}, small, script=script).json(), {"data": [0] * 10})

    def test_get_json_refuses_before_parsing(self):
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        request = ScoringRequest(rows(100), headers=JSON)
        with self.assertRaises(JsonTooLargeError) as err:
            request.get_json(silent=True)
        self.assertEqual((err.exception.elements, err.exception.limit, err.exception.status), (101, 100, 413))
        self.assertEqual(ScoringRequest(rows(99), headers=JSON).get_json(), {"data": [0] * 99})


class QueueAndBlobLimitTest(ScriptTestCase):
    def test_service_bus_batch_sends_it_to_the_failed_queue(self):
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        script = self.script(PARSING)
        broker = Broker()
        broker.enqueue(message("ok", rows(5)), message("huge", rows(100)), message("ok-2", rows(99)))
        with self.assertLogs("aml_host", level="WARNING"):
            broker.run(lambda b: deliver_batch(b, broker.sender(broker.output), broker.sender(broker.failed),
                                               script=script))
        self.assertEqual((broker.failed_invocations, broker.dead_letter), (0, []))
        self.assertEqual(sorted(m.correlation_id for m in broker.output.messages), ["ok", "ok-2"])
        [failed] = broker.failed.messages
        props = failed.application_properties
        self.assertEqual((props["aml-original-message-id"], props["aml-error-type"]), ("huge", "InvalidInput"))
        self.assertIn("AML_MAX_JSON_ELEMENTS", props["aml-error-message"])
        self.assertEqual(len(script.module.CALLS), 2)

    def test_single_message_fails_naming_the_limit(self):
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        script = self.script(PARSING)
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(MessageScoringError) as err:
                score_message(InboundMessage("m-1", rows(100), "application/json"), script=script)
        self.assertIn("m-1", str(err.exception))
        self.assertIn("AML_MAX_JSON_ELEMENTS", str(err.exception))
        self.assertEqual(script.module.CALLS, [])

    def test_blob_fails_naming_the_limit(self):
        self.set_env(AML_MAX_JSON_ELEMENTS="100")
        script = self.script(PARSING)
        self.assertEqual(json.loads(score_blob("input/ok.json", rows(99), script=script)), {"rows": 99})
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError) as err:
                score_blob("input/huge.json", rows(100), script=script)
        self.assertIn("input/huge.json", str(err.exception))
        self.assertIn("AML_MAX_JSON_ELEMENTS", str(err.exception))


# Run in a process of its own so that its peak RSS (ru_maxrss, a high-water mark) is its own.
MEASURE = textwrap.dedent("""
    import json, resource, sys
    sys.path.insert(0, sys.argv[1])
    from aml_host.http import handle_http
    from aml_host.script import EntryScript, InitRetryPolicy

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    script = EntryScript(sys.argv[2], model_dir=sys.argv[3],
                         policy=InitRetryPolicy(first_delay=5, max_delay=5, trigger_wait=30, http_wait=30))
    script.wait_until_ready()
    headers = {"Content-Type": "application/json"}
    normal = json.dumps({"data": [[1.5] * 10 for _ in range(1000)]}).encode()
    hostile = b'{"data":[' + b"[]," * (10 * 1024 * 1024 - 1) + b"[]]}"
    ok = handle_http("POST", "http://h/api/score", headers, {}, normal, script=script)
    start = peak()
    refused = handle_http("POST", "http://h/api/score", headers, {}, hostile, script=script)
    after_host = peak()
    json.loads(hostile)  # what run() would have done with it
    after_parse = peak()
    print(json.dumps({"ok": [ok.status, json.loads(ok.body)], "refused": [refused.status, json.loads(refused.body)],
                      "body": len(hostile), "host": after_host - start, "parse": after_parse - after_host,
                      "calls": script.module.CALLS}))
""")


class PeakMemoryTest(ScriptTestCase):
    def test_a_30_mib_body_of_empty_lists_is_refused_without_being_parsed(self):
        path = self.write_script(PARSING)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AML_")}
        run = subprocess.run([sys.executable, "-c", MEASURE, SCORING_IMAGE, path, self.model_dir],
                             capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        m = json.loads(run.stdout.strip().splitlines()[-1])
        self.assertEqual(m["body"], 30 * 1024 * 1024 + len(b'{"data":[]}') - 1)
        self.assertEqual(m["ok"], [200, {"rows": 1000}])
        self.assertEqual(m["refused"][0], 413, m["refused"])
        self.assertIn("AML_MAX_JSON_ELEMENTS", m["refused"][1]["message"])
        self.assertEqual(len(m["calls"]), 1)  # only the normal body reached run()
        mib = 1024 * 1024
        # The default limit keeps the host's own peak near nothing; the parse it prevents is the
        # issue's ~700 MiB (so the body really is the hostile one).
        self.assertLess(m["host"], 16 * mib, f"host peak grew by {m['host'] / mib:.0f} MiB")
        self.assertGreater(m["parse"], 500 * mib, f"parse peak grew by {m['parse'] / mib:.0f} MiB")
