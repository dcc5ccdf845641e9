"""A first init() that fails (the model is not readable yet) and recovers, in the real worker:
health 503 -> 200, HTTP 503 with Retry-After, a blob that arrives meanwhile waits and is scored."""

import json
import os
import threading
import time

from worker_harness import WorkerTestCase, blob_binding, blob_metadata, http_binding
from worker_test_http import SAMPLE, expected_predictions


class InitRecoveryTest(WorkerTestCase):
    SETTINGS = {"AML_INIT_RETRY_FIRST_SECONDS": "0.2", "AML_INIT_RETRY_MAX_SECONDS": "0.5",
                "AML_HTTP_INIT_WAIT_SECONDS": "10", "AML_INIT_WAIT_SECONDS": "120"}

    def health(self):
        r = self.worker.invoke(self.function_with_kind("health"),
                               [http_binding("GET", "https://app.azurewebsites.net/api/health")])
        self.assertTrue(r.ok, r.error)
        return r

    def eventually(self, predicate, what, limit=60.0):
        deadline = time.monotonic() + limit
        while not predicate():
            if time.monotonic() > deadline:
                self.fail(f"not within {limit} s: {what}")
            time.sleep(0.05)

    def test_init_failure_then_recovery(self):
        with open(SAMPLE, "rb") as f:
            sample = f.read()
        hidden = self.app.model_dir + ".not-yet"
        os.rename(self.app.model_dir, hidden)
        self.addCleanup(lambda: os.path.isdir(hidden) and os.rename(hidden, self.app.model_dir))

        # Loading the health function starts init(); it fails, and is retried.
        first = self.health()
        self.assertEqual(first.status, 503)
        self.assertIn(first.json()["status"], ("initialising", "retrying"))
        script = self.entry_script()
        self.eventually(lambda: script.attempts >= 3, "two retries of init()")
        self.assertEqual(self.health().status, 503)
        self.assertNotIn("FileNotFoundError", self.health().body.decode())

        score = self.function_with_kind("http")
        busy = self.worker.invoke(score, [http_binding("POST", "https://app.azurewebsites.net/api/score", sample)])
        self.assertTrue(busy.ok, busy.error)
        self.assertEqual(busy.status, 503)
        self.assertGreaterEqual(int(busy.http.headers["Retry-After"]), 1)

        # A blob arriving now waits for init() instead of failing at once; the model appears.
        timer = threading.Timer(1.0, os.rename, (hidden, self.app.model_dir))
        timer.start()
        self.addCleanup(timer.cancel)
        blob = self.worker.invoke(self.function_with_kind("blob"), [blob_binding(sample)],
                                  blob_metadata("input/late.json", len(sample)))
        self.assertTrue(blob.ok, blob.error)
        self.assertEqual(json.loads(blob.outputs["outputblob"].bytes),
                         expected_predictions(self.app.model_dir, sample))

        self.assertEqual((self.health().status, self.health().json()), (200, {"status": "ready"}))
        ok = self.worker.invoke(score, [http_binding("POST", "https://app.azurewebsites.net/api/score", sample)])
        self.assertEqual(ok.status, 200)
        logs = "\n".join(self.worker.all_logs)
        self.assertIn("FileNotFoundError", logs)
        self.assertIn("retrying in", logs)
        self.assertIn("ready after", logs)
