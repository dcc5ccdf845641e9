"""The Blob function of the synthesized app in the real worker (output binding, failures, size cap)."""

import json
import os

from worker_harness import WorkerTestCase, blob_binding, blob_metadata
from worker_test_http import SAMPLE, expected_predictions


class BlobFunctionTest(WorkerTestCase):
    SETTINGS = {"AML_MAX_BLOB_BYTES": "4096"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(SAMPLE, "rb") as f:
            cls.sample = f.read()

    def setUp(self):
        self.fn = self.function_with_kind("blob")

    def invoke(self, name: str, data: bytes):
        return self.worker.invoke(self.fn, [blob_binding(data)], blob_metadata(f"input/{name}", len(data)))

    def test_scores_a_blob_into_the_output_binding(self):
        r = self.invoke("a.json", self.sample)
        self.assertTrue(r.ok, r.error)
        self.assertEqual(json.loads(r.outputs["outputblob"].bytes),
                         expected_predictions(self.app.model_dir, self.sample))

    def test_a_bad_blob_fails_the_invocation_and_writes_nothing(self):
        r = self.invoke("bad.json", b'{"data": [[1]]}')
        self.assertFalse(r.ok)
        self.assertIn("input/bad.json", r.error)
        self.assertFalse(r.outputs.get("outputblob") and r.outputs["outputblob"].WhichOneof("data"))

    def test_a_blob_over_the_limit_is_refused(self):
        r = self.invoke("big.json", b" " * 4097)
        self.assertFalse(r.ok)
        self.assertIn("AML_MAX_BLOB_BYTES", r.error)
        self.assertIn("input/big.json", r.error)
        self.assertFalse(r.outputs.get("outputblob") and r.outputs["outputblob"].WhichOneof("data"))
        self.assertTrue(os.path.isdir(self.app.model_dir))
