import json

from aml_host.servicebus import (BatchScoringError, InboundMessage, MessageScoringError, OutboundMessage,
                                 chunk_for_send, output_target, score_batch, score_message)

from .helpers import ScriptTestCase

PER_ITEM = """
import json
RUN_CALLS = []
def init(): pass
def run(data):
    RUN_CALLS.append(data)
    obj = json.loads(data)
    if obj.get("bad"):
        raise ValueError("bad row")
    return {"double": obj["x"] * 2}
"""

WITH_BATCH = PER_ITEM + """
BATCH_CALLS = []
def run_batch(mini_batch):
    BATCH_CALLS.append(list(mini_batch))
    objs = [json.loads(d) for d in mini_batch]
    if any(o.get("bad") for o in objs):
        raise ValueError("bad row in batch")
    return [{"double": o["x"] * 2} for o in objs]
"""


def msgs(*specs):
    return [InboundMessage(f"id-{i}", json.dumps(s).encode(), "application/json", 1) for i, s in enumerate(specs)]


class SingleMessageTest(ScriptTestCase):
    def test_output_ids_and_body(self):
        script = self.script(PER_ITEM)
        out = score_message(InboundMessage("abc-123", b'{"x": 4}', "application/json", 2), script=script)
        self.assertEqual(out, OutboundMessage(body=json.dumps({"double": 8}).encode(), message_id="abc-123",
                                              correlation_id="abc-123", content_type="application/json"))

    def test_failure_raises_naming_the_message(self):
        script = self.script(PER_ITEM)
        with self.assertLogs("aml_host", level="ERROR") as logs:
            with self.assertRaises(MessageScoringError) as err:
                score_message(InboundMessage("m-9", b'{"bad": true}', delivery_count=3), script=script)
        self.assertEqual(err.exception.message_id, "m-9")
        self.assertIn("m-9", str(err.exception))
        self.assertIn("m-9", "\n".join(logs.output))
        self.assertIn("delivery 3", "\n".join(logs.output))

    def test_undecodable_body_raises(self):
        script = self.script(PER_ITEM)
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(MessageScoringError) as err:
                score_message(InboundMessage("m-1", b"\xff"), script=script)
        self.assertIn("UTF-8", str(err.exception))

    def test_request_headers_carry_message_id(self):
        script = self.script("def init(): pass\ndef run(d, request_headers=None): return request_headers\n")
        out = score_message(InboundMessage("m-5", b"x", "text/plain"), script=script)
        self.assertEqual(json.loads(out.body), {"x-aml-message-id": "m-5", "Content-Type": "text/plain"})


class BatchTest(ScriptTestCase):
    def test_per_item_run_without_run_batch(self):
        script = self.script(PER_ITEM)
        outcome = score_batch(msgs({"x": 1}, {"x": 2}, {"x": 3}), script=script)
        self.assertEqual([json.loads(o.body) for o in outcome.outputs], [{"double": 2}, {"double": 4}, {"double": 6}])
        self.assertEqual([o.message_id for o in outcome.outputs], ["id-0", "id-1", "id-2"])
        self.assertEqual([o.correlation_id for o in outcome.outputs], ["id-0", "id-1", "id-2"])
        self.assertEqual(outcome.failed_ids, [])
        self.assertFalse(outcome.used_run_batch)
        self.assertEqual(len(script.module.RUN_CALLS), 3)
        outcome.raise_if_failed()

    def test_run_batch_called_once(self):
        script = self.script(WITH_BATCH)
        outcome = score_batch(msgs(*({"x": i} for i in range(32))), script=script)
        self.assertTrue(outcome.used_run_batch)
        self.assertEqual(len(script.module.BATCH_CALLS), 1)
        self.assertEqual(len(script.module.BATCH_CALLS[0]), 32)
        self.assertIsInstance(script.module.BATCH_CALLS[0][0], str)
        self.assertEqual(script.module.RUN_CALLS, [])
        self.assertEqual([json.loads(o.body)["double"] for o in outcome.outputs], [2 * i for i in range(32)])
        self.assertEqual([o.message_id for o in outcome.outputs], [f"id-{i}" for i in range(32)])

    def test_bad_message_falls_back_to_run_and_is_isolated(self):
        script = self.script(WITH_BATCH)
        with self.assertLogs("aml_host", level="WARNING") as logs:
            outcome = score_batch(msgs({"x": 1}, {"bad": True}, {"x": 3}, {"x": 4}), script=script)
        self.assertEqual(len(script.module.BATCH_CALLS), 1)
        self.assertEqual(len(script.module.RUN_CALLS), 4)
        self.assertFalse(outcome.used_run_batch)
        ids = [o.message_id for o in outcome.outputs]
        self.assertEqual(ids, ["id-0", "id-2", "id-3"])
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual([json.loads(o.body) for o in outcome.outputs], [{"double": 2}, {"double": 6}, {"double": 8}])
        self.assertEqual(outcome.failed_ids, ["id-1"])
        self.assertIn("id-1", "\n".join(logs.output))
        with self.assertRaises(BatchScoringError) as err:
            outcome.raise_if_failed()
        self.assertEqual(err.exception.failed_ids, ["id-1"])
        self.assertIn("id-1", str(err.exception))

    def test_wrong_length_from_run_batch_falls_back(self):
        script = self.script(PER_ITEM + "\ndef run_batch(b):\n    return [1]\n")
        with self.assertLogs("aml_host", level="WARNING") as logs:
            outcome = score_batch(msgs({"x": 1}, {"x": 2}), script=script)
        self.assertIn("returned 1 results for 2 inputs", "\n".join(logs.output))
        self.assertEqual([json.loads(o.body) for o in outcome.outputs], [{"double": 2}, {"double": 4}])
        self.assertEqual(len(script.module.RUN_CALLS), 2)

    def test_undecodable_item_fails_alone_and_is_kept_out_of_run_batch(self):
        script = self.script(WITH_BATCH)
        batch = msgs({"x": 1}) + [InboundMessage("bin", b"\xff\xfe")] + msgs({"x": 5})[0:1]
        batch[2] = InboundMessage("id-last", b'{"x": 5}')
        with self.assertLogs("aml_host", level="ERROR"):
            outcome = score_batch(batch, script=script)
        self.assertTrue(outcome.used_run_batch)
        self.assertEqual(len(script.module.BATCH_CALLS[0]), 2)
        self.assertEqual([o.message_id for o in outcome.outputs], ["id-0", "id-last"])
        self.assertEqual(outcome.failed_ids, ["bin"])

    def test_unserialisable_batch_result_fails_that_item_only(self):
        script = self.script("def init(): pass\ndef run(d): return d\n"
                             "def run_batch(b):\n    return [object() if d == 'x' else d for d in b]\n")
        with self.assertLogs("aml_host", level="ERROR"):
            outcome = score_batch([InboundMessage("a", b"ok"), InboundMessage("b", b"x")], script=script)
        self.assertEqual([o.message_id for o in outcome.outputs], ["a"])
        self.assertEqual(outcome.failed_ids, ["b"])

    def test_run_batch_in_rawhttp_mode_gets_request_objects(self):
        script = self.script("""
            from azureml.contrib.services.aml_request import rawhttp
            def init(): pass
            @rawhttp
            def run(r): return len(r.get_data())
            def run_batch(items): return [r.get_data().decode() + r.headers['x-aml-message-id'] for r in items]
        """)
        outcome = score_batch([InboundMessage("a", b"1"), InboundMessage("b", b"2")], script=script)
        self.assertEqual([json.loads(o.body) for o in outcome.outputs], ["1a", "2b"])


class SendingHelpersTest(ScriptTestCase):
    def test_chunking_keeps_order_and_size(self):
        outs = [OutboundMessage(b"x" * 1000, str(i), str(i)) for i in range(10)]
        chunks = chunk_for_send(outs, max_bytes=3100)
        self.assertEqual([len(c) for c in chunks], [2, 2, 2, 2, 2])
        self.assertEqual([o.message_id for c in chunks for o in c], [str(i) for i in range(10)])
        self.assertEqual(chunk_for_send([]), [])
        self.assertEqual(len(chunk_for_send(outs)), 1)
        huge = [OutboundMessage(b"x" * 10_000, "h", "h")]
        self.assertEqual(chunk_for_send(huge, max_bytes=100), [huge])

    def test_output_target(self):
        env = {"SB__fullyQualifiedNamespace": "ns.servicebus.windows.net", "SB__clientId": "cid"}
        t = output_target({"kind": "servicebus", "connection": "SB", "outputQueue": "outqueue"}, env)
        self.assertEqual((t.fully_qualified_namespace, t.client_id, t.queue_name),
                         ("ns.servicebus.windows.net", "cid", "outqueue"))
        self.assertIsNone(output_target({"connection": "SB", "outputQueue": "q"},
                                        {"SB__fullyQualifiedNamespace": "n"}).client_id)
        with self.assertRaises(ValueError) as err:
            output_target({"connection": "SB", "outputQueue": "q"}, {})
        self.assertIn("SB__fullyQualifiedNamespace", str(err.exception))
        with self.assertRaises(ValueError):
            output_target({"connection": "SB"}, env)
