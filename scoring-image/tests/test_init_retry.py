"""init() retried with backoff: recovery, waits, the health status and the app settings."""

import os
import threading
import time

import aml_host.script as script_mod
from aml_host.blob import BlobScoringError, score_blob
from aml_host.health import health_status
from aml_host.http import handle_http
from aml_host.script import EntryScript, InitRetryPolicy, NotReadyError, wait_until_ready

from .helpers import ScriptTestCase

# init() fails until the file named by GATE exists; every attempt and success is recorded.
FLAKY_INIT = """
import os
GATE = {gate!r}
LOG = {log!r}

def init():
    with open(LOG, "a") as f:
        f.write("attempt\\n")
    if not os.path.exists(GATE):
        raise PermissionError("model storage not reachable yet (role assignment propagating)")
    with open(LOG, "a") as f:
        f.write("success\\n")

def run(data):
    return {{"echo": data}}
"""

# init() blocks until the file named by GATE exists.
BLOCKING_INIT = """
import os, time
GATE = {gate!r}
INIT_CALLS = 0

def init():
    global INIT_CALLS
    INIT_CALLS += 1
    while not os.path.exists(GATE):
        time.sleep(0.01)

def run(data):
    return data
"""

FAST_RETRY = InitRetryPolicy(first_delay=0.05, max_delay=0.2, trigger_wait=20.0, http_wait=5.0)


class RetryTestCase(ScriptTestCase):
    def flaky(self, policy: InitRetryPolicy = FAST_RETRY) -> EntryScript:
        self.gate = os.path.join(self.tmp, "gate")
        self.log = os.path.join(self.tmp, "init.log")
        return self.script(FLAKY_INIT.format(gate=self.gate, log=self.log), policy=policy)

    def open_gate(self) -> None:
        open(self.gate, "w").close()

    def init_log(self):
        with open(self.log) as f:
            return f.read().split()

    def eventually(self, predicate, what: str, limit: float = 20.0) -> None:
        deadline = time.monotonic() + limit
        while not predicate():
            if time.monotonic() > deadline:
                self.fail(f"not within {limit} s: {what}")
            time.sleep(0.01)


class BackoffPolicyTest(RetryTestCase):
    def test_delays_double_from_five_seconds_up_to_a_minute(self):
        policy = InitRetryPolicy()
        self.assertEqual([policy.delay(n) for n in range(1, 8)], [5, 10, 20, 40, 60, 60, 60])
        self.assertEqual((policy.trigger_wait, policy.http_wait), (240, 60))

    def test_read_from_app_settings(self):
        policy = InitRetryPolicy.from_environ({
            "AML_INIT_RETRY_FIRST_SECONDS": "2", "AML_INIT_RETRY_MAX_SECONDS": "30",
            "AML_INIT_WAIT_SECONDS": "100", "AML_HTTP_INIT_WAIT_SECONDS": "10"})
        self.assertEqual(policy, InitRetryPolicy(first_delay=2, max_delay=30, trigger_wait=100, http_wait=10))
        self.assertEqual([policy.delay(n) for n in range(1, 6)], [2, 4, 8, 16, 30])

    def test_bad_settings_fall_back_to_defaults_with_a_warning(self):
        with self.assertLogs("aml_host", level="WARNING") as logs:
            policy = InitRetryPolicy.from_environ({
                "AML_INIT_RETRY_FIRST_SECONDS": "soon", "AML_INIT_RETRY_MAX_SECONDS": "-1",
                "AML_INIT_WAIT_SECONDS": "nan", "AML_HTTP_INIT_WAIT_SECONDS": "900"})
        self.assertEqual(policy, InitRetryPolicy())
        text = "\n".join(logs.output)
        for name in ("AML_INIT_RETRY_FIRST_SECONDS", "AML_INIT_RETRY_MAX_SECONDS", "AML_INIT_WAIT_SECONDS",
                     "AML_HTTP_INIT_WAIT_SECONDS"):
            self.assertIn(name, text)


class RecoveryTest(RetryTestCase):
    def test_failed_init_is_retried_and_the_app_recovers(self):
        script = self.flaky()
        with self.assertLogs("aml_host", level="ERROR") as logs:
            first = handle_http("POST", "http://h/api/score", {}, {}, b"a", script=script)
            self.eventually(lambda: script.attempts >= 3, "two retries after the first failure")
        self.assertEqual(first.status, 503)
        self.assertIn("Retry-After", first.headers)
        self.assertIn("PermissionError", "\n".join(logs.output))
        self.open_gate()
        script.wait_until_ready(20)
        self.assertEqual(handle_http("POST", "http://h/api/score", {}, {}, b"b", script=script).json(),
                         {"echo": "b"})
        log = self.init_log()
        self.assertEqual(log.count("success"), 1)
        self.assertGreaterEqual(log.count("attempt"), 3)
        # Ready stays ready: no further attempts.
        attempts = script.attempts
        handle_http("POST", "http://h/api/score", {}, {}, b"c", script=script)
        self.assertEqual(script.attempts, attempts)

    def test_init_succeeds_exactly_once_under_50_concurrent_first_requests_after_failures(self):
        script = self.flaky()
        with self.assertLogs("aml_host", level="ERROR"):
            script.start()
            self.eventually(lambda: script.attempts >= 2, "a retry")
        self.open_gate()
        barrier = threading.Barrier(50)
        statuses = []

        def call(i):
            barrier.wait()
            script.wait_until_ready(20)
            statuses.append(handle_http("POST", "http://h/s", {}, {}, str(i).encode(), script=script).status)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(statuses, [200] * 50)
        self.assertEqual(self.init_log().count("success"), 1)

    def test_blob_waits_across_retries_and_is_scored_once_init_recovers(self):
        script = self.flaky()
        timer = threading.Timer(0.3, self.open_gate)
        timer.start()
        self.addCleanup(timer.cancel)
        with self.assertLogs("aml_host", level="ERROR"):
            out = score_blob("input/a.json", b"x", script=script)
        self.assertEqual(out, b'{"echo": "x"}')
        self.assertGreaterEqual(self.init_log().count("attempt"), 2)

    def test_blob_fails_only_after_the_wait(self):
        script = self.flaky(InitRetryPolicy(first_delay=0.05, max_delay=0.1, trigger_wait=0.5, http_wait=1))
        started = time.monotonic()
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError) as err:
                score_blob("input/a.json", b"x", script=script)
        waited = time.monotonic() - started
        self.assertGreaterEqual(waited, 0.5)  # the configured wait, not a performance budget
        self.assertIsInstance(err.exception.__cause__, NotReadyError)
        self.assertIn("input/a.json", str(err.exception))
        self.assertGreater(script.attempts, 1)


class HttpWhileInitialisingTest(RetryTestCase):
    def test_503_while_init_runs_longer_than_the_http_wait_then_200(self):
        gate = os.path.join(self.tmp, "gate")
        script = self.script(BLOCKING_INIT.format(gate=gate),
                             policy=InitRetryPolicy(first_delay=5, max_delay=60, trigger_wait=20, http_wait=0.1))
        with self.assertLogs("aml_host", level="WARNING") as logs:
            busy = handle_http("POST", "http://h/api/score", {}, {}, b"a", script=script)
        self.assertEqual(busy.status, 503)
        self.assertEqual(busy.headers["Retry-After"], "5")
        self.assertIn("init() running", "\n".join(logs.output))
        self.assertEqual(health_status(script).status, 503)
        self.assertEqual(health_status(script).json(), {"status": "initialising"})
        open(gate, "w").close()
        script.wait_until_ready(20)
        self.assertEqual(handle_http("POST", "http://h/api/score", {}, {}, b"a", script=script).json(), "a")
        self.assertEqual(script.module.INIT_CALLS, 1)


class HealthTest(RetryTestCase):
    def test_health_starts_init_and_goes_from_503_to_200(self):
        script = self.flaky()
        with self.assertLogs("aml_host", level="ERROR"):
            first = health_status(script)
            self.assertEqual(first.status, 503)
            self.assertIn(first.json()["status"], ("initialising", "retrying"))
            self.eventually(lambda: script.state == "retry-wait", "the first attempt failed")
            retrying = health_status(script)
        self.assertEqual((retrying.status, retrying.json()), (503, {"status": "retrying"}))
        self.assertNotIn("PermissionError", retrying.body.decode())
        self.assertEqual(retrying.headers["Cache-Control"], "no-store")
        self.open_gate()
        self.eventually(lambda: health_status(script).status == 200, "health 200 after recovery")
        self.assertEqual(health_status(script).json(), {"status": "ready"})

    def test_health_without_entry_script_setting_is_503(self):
        saved = script_mod._default_script
        self.addCleanup(setattr, script_mod, "_default_script", saved)
        script_mod._default_script = None
        old = os.environ.pop("AZUREML_ENTRY_SCRIPT", None)
        self.addCleanup(lambda: old is not None and os.environ.__setitem__("AZUREML_ENTRY_SCRIPT", old))
        result = health_status()
        self.assertEqual((result.status, result.json()), (503, {"status": "unavailable"}))


class ModuleLevelWaitTest(RetryTestCase):
    def test_wait_until_ready_uses_the_process_wide_script(self):
        script = self.flaky()
        saved = script_mod._default_script
        self.addCleanup(setattr, script_mod, "_default_script", saved)
        script_mod._default_script = script
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(NotReadyError) as err:
                wait_until_ready(0.2)
        self.assertGreaterEqual(err.exception.retry_after, 1)
        self.assertIn("init()", str(err.exception))
        self.open_gate()
        self.assertIs(wait_until_ready(20), script)
        self.assertTrue(script.ready)


class BeforeInitHookTest(RetryTestCase):
    def test_a_failing_hook_is_a_failed_attempt_and_is_retried(self):
        calls = []

        def hook(script):
            calls.append(script.attempts)
            if len(calls) < 3:
                raise ConnectionError("model storage not reachable yet")

        script_mod.BEFORE_INIT_HOOKS.append(hook)
        self.addCleanup(script_mod.BEFORE_INIT_HOOKS.remove, hook)
        script = self.script("def init(): pass\ndef run(d): return d\n", policy=FAST_RETRY)
        with self.assertLogs("aml_host", level="ERROR") as logs:
            script.wait_until_ready(20)
        self.assertEqual(calls, [1, 2, 3])
        self.assertIn("ConnectionError", "\n".join(logs.output))
        self.assertEqual(handle_http("POST", "http://h/s", {}, {}, b"ok", script=script).json(), "ok")
