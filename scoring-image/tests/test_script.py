import os
import sys
import threading

from aml_host.blob import BlobScoringError, score_blob
from aml_host.http import handle_http
from aml_host.script import (EntryScript, InitFailedError, InitRetryPolicy, InputMode, entry_script_path,
                             get_entry_script, model_dir_listing)
from aml_host.servicebus import InboundMessage, MessageScoringError, score_batch, score_message

from .helpers import ScriptTestCase

SLOW_INIT = """
import time, threading
INIT_CALLS = 0
RUN_THREADS = set()
model = None

def init():
    global INIT_CALLS, model
    INIT_CALLS += 1
    time.sleep(0.2)
    model = "loaded"

def run(data):
    RUN_THREADS.add(threading.get_ident())
    if model != "loaded":
        raise RuntimeError("run before init finished")
    return {"echo": data}
"""

FAILING_INIT = """
INIT_CALLS = 0
RUN_CALLS = 0

def init():
    global INIT_CALLS
    INIT_CALLS += 1
    raise FileNotFoundError("model.joblib not found under the model dir")

def run(data):
    global RUN_CALLS
    RUN_CALLS += 1
    return data
"""


class InitOnceTest(ScriptTestCase):
    def test_init_runs_once_under_concurrent_first_requests(self):
        script = self.script(SLOW_INIT)
        results = []
        barrier = threading.Barrier(50)

        def call(i):
            barrier.wait()
            results.append(handle_http("POST", "http://h/api/score", {}, {}, str(i).encode(), script=script))

        threads = [threading.Thread(target=call, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(len(results), 50)
        self.assertEqual([r.status for r in results], [200] * 50)
        self.assertEqual(script.module.INIT_CALLS, 1)
        self.assertEqual(sorted(r.json()["echo"] for r in results), sorted(str(i) for i in range(50)))
        self.assertGreater(len(script.module.RUN_THREADS), 1)
        handle_http("POST", "http://h/api/score", {}, {}, b"again", script=script)
        self.assertEqual(script.module.INIT_CALLS, 1)

    def test_init_not_called_before_first_use(self):
        script = self.script(SLOW_INIT)
        self.assertIsNone(script.module)
        self.assertFalse(script.ready)
        script.ensure_ready()
        self.assertTrue(script.ready)
        self.assertEqual(script.module.INIT_CALLS, 1)


# Failing-init tests: no retry during the test (first delay 60 s), short waits.
NO_RETRY = InitRetryPolicy(first_delay=60.0, max_delay=60.0, trigger_wait=0.3, http_wait=5.0)


class InitFailureTest(ScriptTestCase):
    def test_failure_logs_traceback_and_model_listing(self):
        script = self.script(FAILING_INIT, policy=NO_RETRY)
        with self.assertLogs("aml_host", level="ERROR") as logs:
            result = handle_http("POST", "http://h/api/score", {}, {}, b"x", script=script)
        text = "\n".join(logs.output)
        self.assertIn("FileNotFoundError", text)
        self.assertIn("model.joblib not found", text)
        self.assertIn("churn/model.pkl (10 bytes)", text)
        self.assertIn(self.model_dir, text)
        self.assertIn("retrying in 60 s", text)
        self.assertEqual(result.status, 503)
        self.assertEqual(result.headers["Retry-After"], "60")
        self.assertIn("init", result.json()["message"])
        self.assertNotIn("model.joblib", result.json()["message"])

    def test_calls_while_a_retry_is_scheduled_fail_without_calling_init_or_run(self):
        script = self.script(FAILING_INIT, policy=NO_RETRY)
        with self.assertLogs("aml_host", level="ERROR"):
            handle_http("POST", "http://h/api/score", {}, {}, b"x", script=script)
        with self.assertLogs("aml_host", level="WARNING"):
            for _ in range(50):
                self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"x", script=script).status, 503)
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError) as blob_err:
                score_blob("input/a.json", b"{}", script=script)
            with self.assertRaises(MessageScoringError) as sb_err:
                score_message(InboundMessage("m-1", b"{}"), script=script)
            with self.assertRaises(MessageScoringError):
                score_batch([InboundMessage("m-2", b"{}")], script=script)
        self.assertIn("input/a.json", str(blob_err.exception))
        self.assertIn("not initialised", str(blob_err.exception))
        self.assertIn("m-1", str(sb_err.exception))
        with self.assertRaises(InitFailedError) as init_err:
            script.ensure_ready(timeout=0)
        self.assertIn("FileNotFoundError", str(init_err.exception))
        self.assertEqual(script.attempts, 1)
        self.assertEqual(script.state, "retry-wait")

    def test_failed_module_is_dropped(self):
        path = self.write_script(FAILING_INIT)
        marker = os.path.join(self.tmp, "calls.txt")
        self.write_script(FAILING_INIT.replace(
            "INIT_CALLS += 1", f"INIT_CALLS += 1\n    with open({marker!r}, 'a') as f:\n        f.write('x')"))
        script = EntryScript(path, model_dir=self.model_dir, policy=NO_RETRY)
        self.addCleanup(script.close)
        with self.assertLogs("aml_host", level="WARNING"):
            for _ in range(5):
                handle_http("POST", "http://h/s", {}, {}, b"x", script=script)
        with open(marker) as f:
            self.assertEqual(f.read(), "x")
        self.assertIsNone(script.module)
        self.assertFalse([n for n in sys.modules if n.startswith("aml_entry_score_")
                          and getattr(sys.modules[n], "__file__", None) == path])

    def test_import_error_is_an_init_failure(self):
        script = self.script("import not_a_module_anywhere_123\ndef init(): pass\ndef run(d): return d\n",
                             policy=NO_RETRY)
        with self.assertLogs("aml_host", level="ERROR") as logs:
            self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"x", script=script).status, 503)
        self.assertIn("not_a_module_anywhere_123", "\n".join(logs.output))

    def test_missing_run_or_init_is_a_clear_error(self):
        for source, missing in (("def init(): pass\n", "run()"), ("def run(d): return d\n", "init()"),
                                ("x = 1\n", "init() and run()")):
            script = self.script(source, name=f"s{len(missing)}.py", policy=NO_RETRY)
            with self.assertLogs("aml_host", level="ERROR"):
                with self.assertRaises(InitFailedError) as err:
                    script.ensure_ready()
            self.assertIn(f"must define {missing}", str(err.exception))

    def test_missing_script_file(self):
        script = EntryScript(os.path.join(self.tmp, "nope.py"), model_dir=self.model_dir, policy=NO_RETRY)
        self.addCleanup(script.close)
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(InitFailedError) as err:
                script.ensure_ready()
        self.assertIn("entry script not found", str(err.exception))


class LoadingTest(ScriptTestCase):
    def test_script_folder_is_on_sys_path(self):
        self.write_script("def shout(s):\n    return s.upper()\n", name="helper_mod_xyz.py")
        script = self.script("from helper_mod_xyz import shout\ndef init(): pass\ndef run(d): return shout(d)\n")
        self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"abc", script=script).json(), "ABC")

    def test_modes_detected(self):
        self.assertEqual(self.script("def init(): pass\ndef run(d): return d\n", name="a.py").has_run_batch, False)
        script = self.script("def init(): pass\ndef run(d): return d\ndef run_batch(b): return b\n", name="b.py")
        self.assertTrue(script.has_run_batch)
        self.assertEqual(script.mode, InputMode.TEXT)
        self.assertFalse(script.accepts_request_headers)

    def test_entry_script_path_from_environment(self):
        env = {"AML_APP_ROOT": "/var/azureml-app", "AZUREML_ENTRY_SCRIPT": "scoring/score.py"}
        self.assertEqual(entry_script_path(env), os.path.join("/var/azureml-app", "scoring", "score.py"))
        with self.assertRaises(InitFailedError):
            entry_script_path({"AML_APP_ROOT": "/x"})

    def test_default_script_is_a_process_singleton(self):
        import aml_host.script as mod

        path = self.write_script("def init(): pass\ndef run(d): return d\n", folder="app")
        saved = mod._default_script
        self.addCleanup(setattr, mod, "_default_script", saved)
        mod._default_script = None
        self.set_env(AML_APP_ROOT=os.path.join(self.tmp, "app"), AZUREML_ENTRY_SCRIPT="score.py")
        first = get_entry_script()
        self.assertIs(first, get_entry_script())
        self.assertEqual(first.path, path)


class ModelListingTest(ScriptTestCase):
    def test_listing_is_bounded(self):
        big = os.path.join(self.model_dir, "many")
        os.makedirs(big)
        for i in range(300):
            open(os.path.join(big, f"f{i:03d}.bin"), "wb").close()
        listing = model_dir_listing(self.model_dir, max_entries=50)
        self.assertLessEqual(len(listing.splitlines()), 53)
        self.assertIn("more entries not shown", listing)
        self.assertIn("churn/", listing)

    def test_listing_of_missing_folder(self):
        self.assertIn("does not exist", model_dir_listing(os.path.join(self.tmp, "missing")))
        self.assertIn("not set", model_dir_listing(None))
