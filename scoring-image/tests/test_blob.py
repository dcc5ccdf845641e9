import json

from aml_host.blob import BlobScoringError, score_blob

from .helpers import ScriptTestCase


class BlobTest(ScriptTestCase):
    def test_success_is_json_of_result(self):
        script = self.script("""
            import json
            def init(): pass
            def run(data):
                return {"rows": len(json.loads(data)["data"])}
        """)
        out = score_blob("input/cust.json", b'{"data": [[1], [2]]}', script=script)
        self.assertEqual(out, json.dumps({"rows": 2}).encode("utf-8"))

    def test_undecodable_blob_names_the_blob(self):
        script = self.script("def init(): pass\ndef run(d): return d\n")
        with self.assertLogs("aml_host", level="ERROR") as logs:
            with self.assertRaises(BlobScoringError) as err:
                score_blob("input/bad.json", b"\xff\xfe", script=script)
        self.assertIn("input/bad.json", str(err.exception))
        self.assertIn("UTF-8", str(err.exception))
        self.assertEqual(err.exception.blob_name, "input/bad.json")
        self.assertIn("input/bad.json", "\n".join(logs.output))

    def test_run_failure_names_the_blob_and_logs_traceback(self):
        script = self.script("def init(): pass\ndef run(d):\n    raise KeyError('data')\n")
        with self.assertLogs("aml_host", level="ERROR") as logs:
            with self.assertRaises(BlobScoringError) as err:
                score_blob("input/x.json", b"{}", script=script)
        self.assertIn("input/x.json", str(err.exception))
        self.assertIn("KeyError", str(err.exception))
        self.assertIn("Traceback", "\n".join(logs.output))

    def test_base_exceptions_from_run_fail_the_blob_like_any_error(self):
        # Not Exceptions: without the conversion, KeyboardInterrupt stopped the worker's loop and
        # CancelledError left the invocation unanswered until the host's timeout.
        for raised, text in (("KeyboardInterrupt()", "run() raised KeyboardInterrupt"),
                             ("asyncio.CancelledError()", "run() raised CancelledError"),
                             ("SystemExit(4)", "run() called sys.exit(4)")):
            script = self.script(f"import asyncio\ndef init(): pass\ndef run(d):\n    raise {raised}\n")
            with self.assertLogs("aml_host", level="ERROR") as logs:
                with self.assertRaises(BlobScoringError) as err:
                    score_blob("input/x.json", b"{}", script=script)
            self.assertIn("ScriptExitError", str(err.exception))
            self.assertIn(text, "\n".join(logs.output))

    def test_unserialisable_result_fails(self):
        script = self.script("def init(): pass\ndef run(d): return {1, 2}\n")
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError) as err:
                score_blob("input/s.json", b"{}", script=script)
        self.assertIn("not JSON-serialisable", str(err.exception))

    def test_rawhttp_script_gets_bytes_in_request_object(self):
        script = self.script("""
            from azureml.contrib.services.aml_request import rawhttp
            def init(): pass
            @rawhttp
            def run(request):
                return {"hex": request.get_data().hex(), "blob": request.headers["x-aml-blob-name"]}
        """)
        out = score_blob("input/img.png", b"\x89PNG\xff\x00", script=script)
        self.assertEqual(json.loads(out), {"hex": "89504e47ff00", "blob": "input/img.png"})

    def test_amlresponse_body_is_output_and_error_status_fails(self):
        script = self.script("""
            from azureml.contrib.services.aml_response import AMLResponse
            def init(): pass
            def run(d):
                return AMLResponse("csv,body", 200) if d == "ok" else AMLResponse("no", 400)
        """)
        self.assertEqual(score_blob("input/a", b"ok", script=script), b"csv,body")
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(BlobScoringError) as err:
                score_blob("input/b", b"bad", script=script)
        self.assertIn("status 400", str(err.exception))

    def test_input_bytes_are_not_modified(self):
        script = self.script("""
            def init(): pass
            def run(request):
                return len(request)
        """)
        data = bytearray(b"abc")
        self.assertEqual(score_blob("input/a", data, script=script), b"3")
        self.assertEqual(data, bytearray(b"abc"))
