"""End to end with the REAL sample scikit-learn model (examples/churn).

Needs scikit-learn (Debian: python3-sklearn). Without it these tests are skipped, unless
AML_REQUIRE_SKLEARN=1, in which case they fail.
"""

import json
import os
import unittest

from aml_host.blob import score_blob
from aml_host.http import handle_http
from aml_host.script import EntryScript
from aml_host.servicebus import InboundMessage, output_message_id, score_batch, score_message

from .helpers import REPO_ROOT

CHURN = os.path.join(REPO_ROOT, "examples", "churn")


def require_sklearn(test: unittest.TestCase) -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        if os.environ.get("AML_REQUIRE_SKLEARN") == "1":
            test.fail(f"scikit-learn is required (AML_REQUIRE_SKLEARN=1) but cannot be imported ({exc}): "
                      f"install python3-sklearn (apt-get install python3-sklearn) and run with /usr/bin/python3, "
                      f"or set PYTHON to an interpreter that has scikit-learn 1.2.1")
        test.skipTest(f"scikit-learn not importable ({exc}); set AML_REQUIRE_SKLEARN=1 to make this a failure")


class ChurnModelEndToEndTest(unittest.TestCase):
    script = None

    def setUp(self):
        require_sklearn(self)
        if ChurnModelEndToEndTest.script is None:
            old = os.environ.get("AZUREML_MODEL_DIR")
            os.environ["AZUREML_MODEL_DIR"] = os.path.join(CHURN, "models")
            try:
                script = EntryScript(os.path.join(CHURN, "scoring", "score.py"))
                script.ensure_ready()
            finally:
                if old is None:
                    os.environ.pop("AZUREML_MODEL_DIR")
                else:
                    os.environ["AZUREML_MODEL_DIR"] = old
            ChurnModelEndToEndTest.script = script
        with open(os.path.join(CHURN, "sample-request.json"), "rb") as f:
            self.sample = f.read()

    def expected(self):
        import joblib
        import numpy as np

        model = joblib.load(os.path.join(CHURN, "models", "churn", "model.joblib"))
        return [int(p) for p in model.predict(np.asarray(json.loads(self.sample)["data"], dtype=float))]

    def test_model_file_is_small(self):
        self.assertLess(os.path.getsize(os.path.join(CHURN, "models", "churn", "model.joblib")), 200 * 1024)

    def test_http_path(self):
        r = handle_http("POST", "https://app/api/score", {"Content-Type": "application/json"}, {}, self.sample,
                        script=self.script)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), self.expected())
        self.assertEqual(r.json(), [1, 0])

    def test_http_bad_payload_is_500(self):
        with self.assertLogs("aml_host", level="ERROR"):
            r = handle_http("POST", "https://app/api/score", {}, {}, b'{"data": [[1, 2]]}', script=self.script)
        self.assertEqual(r.status, 500)

    def test_blob_path(self):
        out = score_blob("input/customers.json", self.sample, script=self.script)
        self.assertEqual(json.loads(out), self.expected())

    def test_single_message(self):
        out = score_message(InboundMessage("m-1", self.sample), script=self.script)
        self.assertEqual((json.loads(out.body), out.message_id, out.correlation_id),
                         (self.expected(), output_message_id("m-1", self.sample), "m-1"))

    def test_batch_of_messages_uses_run_batch(self):
        rows = json.loads(self.sample)["data"]
        msgs = [InboundMessage(f"m-{i}", json.dumps({"data": [rows[i % 2]] * (1 + i % 3)}).encode())
                for i in range(32)]
        outcome = score_batch(msgs, script=self.script)
        self.assertTrue(outcome.used_run_batch)
        self.assertEqual(outcome.failed_ids, [])
        expected = self.expected()
        self.assertEqual([json.loads(o.body) for o in outcome.outputs],
                         [[expected[i % 2]] * (1 + i % 3) for i in range(32)])
        self.assertEqual([o.correlation_id for o in outcome.outputs], [m.message_id for m in msgs])

    def test_batch_with_a_bad_message(self):
        msgs = [InboundMessage("good-1", self.sample), InboundMessage("bad", b'{"data": [[1, 2, 3]]}'),
                InboundMessage("good-2", self.sample)]
        with self.assertLogs("aml_host", level="WARNING"):
            outcome = score_batch(msgs, script=self.script)
        self.assertFalse(outcome.used_run_batch)
        self.assertEqual([o.correlation_id for o in outcome.outputs], ["good-1", "good-2"])
        self.assertEqual([json.loads(o.body) for o in outcome.outputs], [self.expected()] * 2)
        self.assertEqual(outcome.failed_ids, ["bad"])
