"""HTTP and health functions of the synthesized app in the real worker, scoring with the real model."""

import json
import logging
import os
import sys

from worker_harness import REPO_ROOT, WorkerTestCase, http_binding

SAMPLE = os.path.join(REPO_ROOT, "examples", "churn", "sample-request.json")
SECRET = "K3yS3cr3tV4lue"


def expected_predictions(model_dir: str, body: bytes):
    import joblib
    import numpy as np

    model = joblib.load(os.path.join(model_dir, "churn", "model.joblib"))
    return [int(p) for p in model.predict(np.asarray(json.loads(body)["data"], dtype=float))]


class CaptureAll(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


class HttpFunctionTest(WorkerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(SAMPLE, "rb") as f:
            cls.sample = f.read()

    def setUp(self):
        self.score = self.function_with_kind("http")

    def post(self, body: bytes, url: str = "https://app.azurewebsites.net/api/score", **kw):
        return self.worker.invoke(self.score, [http_binding("POST", url, body, **kw)])

    def test_scores_the_sample_request_with_the_sklearn_model(self):
        r = self.post(self.sample, headers={"content-type": "application/json"})
        self.assertTrue(r.ok, r.error)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), expected_predictions(self.app.model_dir, self.sample))
        self.assertEqual(r.http.headers["Content-Type"], "application/json")

    def test_the_staged_copies_are_what_runs(self):
        self.assertTrue(self.post(self.sample).ok)
        self.assertTrue(sys.modules["aml_host.http"].__file__.startswith(self.app.wwwroot))
        self.assertTrue(sys.modules["adapters.http_adapter"].__file__.startswith(self.app.wwwroot))
        self.assertTrue(sys.modules["azure.functions"].__file__.startswith(os.path.dirname(os.path.dirname(
            os.path.dirname(sys.modules["azure.functions"].__file__)))))
        self.assertIn("vendor", sys.modules["azure.functions"].__file__)
        script = self.entry_script()
        self.assertEqual(script.path, os.path.join(self.app.app_root, self.app.entry_script))
        self.assertEqual(script.attempts, 1)

    def test_a_bad_payload_is_a_generic_500(self):
        r = self.post(b'{"data": [[1, 2]]}')
        self.assertTrue(r.ok, r.error)  # the function answered; the answer is the error
        self.assertEqual(r.status, 500)
        self.assertNotIn("shape", r.body.decode())
        self.assertTrue(any("ValueError" in line for line in self.worker.all_logs))

    def test_a_body_over_the_limit_is_413(self):
        os.environ["AML_MAX_REQUEST_BYTES"] = "64"
        self.addCleanup(os.environ.pop, "AML_MAX_REQUEST_BYTES")
        r = self.post(self.sample)
        self.assertEqual(r.status, 413)

    def test_a_json_body_of_30_mib_empty_lists_is_413_and_the_sample_still_scores(self):
        # ~700 MiB to parse; refused at the default AML_MAX_JSON_ELEMENTS before run() sees it.
        hostile = b'{"data":[' + b"[]," * (10 * 1024 * 1024 - 1) + b"[]]}"
        r = self.post(hostile, headers={"content-type": "application/json"})
        self.assertTrue(r.ok, r.error)
        self.assertEqual(r.status, 413)
        self.assertIn("AML_MAX_JSON_ELEMENTS", r.json()["message"])
        again = self.post(self.sample, headers={"content-type": "application/json"})
        self.assertEqual((again.status, again.json()), (200, expected_predictions(self.app.model_dir, self.sample)))

    def test_health_is_200_once_ready(self):
        self.assertEqual(self.post(self.sample).status, 200)
        health = self.function_with_kind("health")
        r = self.worker.invoke(health, [http_binding("GET", "https://app.azurewebsites.net/api/health")])
        self.assertTrue(r.ok, r.error)
        self.assertEqual((r.status, r.json()), (200, {"status": "ready"}))

    def test_the_function_key_is_never_logged(self):
        handler = CaptureAll()
        logging.getLogger().addHandler(handler)
        self.addCleanup(logging.getLogger().removeHandler, handler)
        before = len(self.worker.all_logs)
        url = f"https://app.azurewebsites.net/api/score?code={SECRET}"
        headers = {"x-functions-key": SECRET, "content-type": "application/json"}
        statuses = [
            self.post(self.sample, url=url, headers=headers, query={"code": SECRET}).status,
            # (run()'s own exception text is the script's business: keep the key out of the body here)
            self.post(b'{"data": [[1, 2]]}', url=url, headers=headers, query={"code": SECRET}).status,
            self.post(b"\xff" + SECRET.encode(), url=url, headers=headers, query={"code": SECRET}).status,
        ]
        self.assertEqual(statuses, [200, 500, 400])
        lines = self.worker.all_logs[before:] + handler.lines
        self.assertTrue(any("POST /api/score" in line for line in lines), lines)
        self.assertEqual([line for line in lines if SECRET in line or "code=" in line], [])
