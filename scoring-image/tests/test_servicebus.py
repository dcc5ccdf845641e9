import hashlib
import json
import os
import sys

from aml_host.servicebus import (DeliveryError, FailedMessage, InboundMessage, MessageScoringError, OutboundMessage,
                                 chunk_for_send, deliver_batch, deliver_message, encoded_size, failed_message,
                                 fits, output_message_id, output_target, score_batch, score_message)

from aml_host.script import InitFailedError, InitRetryPolicy

from . import test_http
from .helpers import ScriptTestCase
from .servicebus_broker import Broker, message, wire_size

PER_ITEM = """
import json
RUN_CALLS = []
def init(): pass
def run(data):
    RUN_CALLS.append(data)
    obj = json.loads(data)
    if obj.get("bad"):
        raise ValueError("bad row")
    if obj.get("big"):
        return "r" * obj["big"]
    return {"double": obj["x"] * 2}
"""

WITH_BATCH = PER_ITEM + """
BATCH_CALLS = []
def run_batch(mini_batch):
    BATCH_CALLS.append(list(mini_batch))
    objs = [json.loads(d) for d in mini_batch]
    if any(o.get("bad") for o in objs):
        raise ValueError("bad row in batch")
    return ["r" * o["big"] if o.get("big") else {"double": o["x"] * 2} for o in objs]
"""

SCHEMA_SCRIPT = """
from inference_schema.schema_decorators import input_schema
def init(): pass
@input_schema("data", None)
def run(data):
    return {"rows": len(data)}
"""


def short_init_wait():
    """aml_host.script retries init() and queue invocations wait for it; wait briefly here: these
    tests are about what the failure does, not how long it is waited for."""
    return {"policy": InitRetryPolicy(first_delay=60.0, max_delay=60.0, trigger_wait=0.2, http_wait=0.2)}


def msgs(*specs, start=0):
    return [InboundMessage(f"id-{i}", json.dumps(s).encode(), "application/json", 1)
            for i, s in enumerate(specs, start=start)]


def expected_id(input_id, body):
    return hashlib.sha256(input_id.encode() + hashlib.sha256(body).digest()).hexdigest()[:32]


class OutputIdTest(ScriptTestCase):
    def test_derivation_is_documented_formula(self):
        self.assertEqual(output_message_id("m-1", b'{"x": 1}'), expected_id("m-1", b'{"x": 1}'))
        self.assertEqual(len(output_message_id("m-1", b"")), 32)

    def test_same_input_same_id_distinct_inputs_distinct_ids(self):
        self.assertEqual(output_message_id("m-1", b"a"), output_message_id("m-1", b"a"))
        self.assertNotEqual(output_message_id("m-1", b"a"), output_message_id("m-1", b"b"))
        self.assertNotEqual(output_message_id("m-1", b"a"), output_message_id("m-2", b"a"))
        # no ambiguity from concatenation: the body enters as a fixed-length digest
        self.assertNotEqual(output_message_id("ab", b"c"), output_message_id("a", b"bc"))


class SingleMessageTest(ScriptTestCase):
    def test_output_ids_and_body(self):
        script = self.script(PER_ITEM)
        out = score_message(InboundMessage("abc-123", b'{"x": 4}', "application/json", 2), script=script)
        self.assertEqual(out, OutboundMessage(body=json.dumps({"double": 8}).encode(),
                                              message_id=expected_id("abc-123", b'{"x": 4}'),
                                              correlation_id="abc-123", content_type="application/json"))

    def test_failure_raises_naming_the_message(self):
        script = self.script(PER_ITEM)
        with self.assertLogs("aml_host", level="ERROR") as logs:
            with self.assertRaises(MessageScoringError) as err:
                score_message(InboundMessage("m-9", b'{"bad": true}', delivery_count=3), script=script)
        self.assertEqual(err.exception.message_id, "m-9")
        self.assertIn("m-9", str(err.exception))
        self.assertIn("delivery 3", "\n".join(logs.output))

    def test_undecodable_body_raises(self):
        script = self.script(PER_ITEM)
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(MessageScoringError) as err:
                score_message(InboundMessage("m-1", b"\xff"), script=script)
        self.assertIn("UTF-8", str(err.exception))

    def test_message_without_id_is_refused_before_run(self):
        script = self.script(PER_ITEM)
        for missing in (None, ""):
            with self.assertLogs("aml_host", level="ERROR"):
                with self.assertRaises(MessageScoringError) as err:
                    score_message(InboundMessage(missing, b'{"x": 1}'), script=script)
            self.assertIn("no message id", str(err.exception))
        self.assertFalse(script.ready)  # refused before the script was even loaded

    def test_result_too_large_is_refused_before_sending(self):
        script = self.script(PER_ITEM)
        sent = []
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(MessageScoringError) as err:
                deliver_message(InboundMessage("m-1", b'{"big": 300000}'), sent.append, script=script)
        self.assertIn("exceeds the 262144 bytes", str(err.exception))
        self.assertEqual(sent, [])

    def test_request_headers_carry_message_id(self):
        script = self.script("def init(): pass\ndef run(d, request_headers=None): return request_headers\n")
        out = score_message(InboundMessage("m-5", b"x", "text/plain"), script=script)
        self.assertEqual(json.loads(out.body), {"x-aml-message-id": "m-5", "Content-Type": "text/plain"})

    def test_cardinality_one_keeps_retry_then_dead_letter(self):
        script = self.script(PER_ITEM)
        broker = Broker(max_delivery_count=4)
        broker.enqueue(message("good", b'{"x": 1}'), message("bad", b'{"bad": 1}'), message(None, b'{"x": 2}'))
        with self.assertLogs("aml_host", level="ERROR"):
            broker.run(lambda batch: deliver_message(batch[0], broker.sender(broker.output), script=script),
                       batch_size=1)
        self.assertEqual([m.correlation_id for m in broker.output.messages], ["good"])
        self.assertEqual(sorted(str(m.message_id) for m in broker.dead_letter), ["None", "bad"])
        self.assertTrue(all(m.delivery_count == 4 for m in broker.dead_letter))
        self.assertEqual(broker.failed.messages, [])


class BatchScoringTest(ScriptTestCase):
    def test_per_item_run_without_run_batch(self):
        script = self.script(PER_ITEM)
        outcome = score_batch(msgs({"x": 1}, {"x": 2}, {"x": 3}), script=script)
        self.assertEqual([json.loads(o.body) for o in outcome.outputs], [{"double": 2}, {"double": 4}, {"double": 6}])
        self.assertEqual([o.correlation_id for o in outcome.outputs], ["id-0", "id-1", "id-2"])
        self.assertEqual(outcome.failed, [])
        self.assertFalse(outcome.used_run_batch)
        self.assertEqual(len(script.module.RUN_CALLS), 3)

    def test_run_batch_called_once(self):
        script = self.script(WITH_BATCH)
        batch = msgs(*({"x": i} for i in range(32)))
        outcome = score_batch(batch, script=script)
        self.assertTrue(outcome.used_run_batch)
        self.assertEqual(len(script.module.BATCH_CALLS), 1)
        self.assertEqual(len(script.module.BATCH_CALLS[0]), 32)
        self.assertEqual(script.module.RUN_CALLS, [])
        self.assertEqual([json.loads(o.body)["double"] for o in outcome.outputs], [2 * i for i in range(32)])
        self.assertEqual([o.message_id for o in outcome.outputs], [expected_id(m.message_id, m.body) for m in batch])

    def test_bad_message_falls_back_to_run_and_is_isolated(self):
        script = self.script(WITH_BATCH)
        with self.assertLogs("aml_host", level="WARNING") as logs:
            outcome = score_batch(msgs({"x": 1}, {"bad": True}, {"x": 3}, {"x": 4}), script=script)
        self.assertEqual(len(script.module.BATCH_CALLS), 1)
        self.assertEqual(len(script.module.RUN_CALLS), 4)
        self.assertEqual([o.correlation_id for o in outcome.outputs], ["id-0", "id-2", "id-3"])
        self.assertEqual(outcome.failed_ids, ["id-1"])
        self.assertEqual((outcome.failed[0].error_type, outcome.failed[0].error_message), ("ValueError", "bad row"))
        self.assertIn("id-1", "\n".join(logs.output))

    def test_sys_exit_in_run_fails_that_message_only(self):
        script = self.script("import json, sys\ndef init(): pass\n"
                             "def run(d):\n    if json.loads(d).get('exit'):\n        sys.exit(1)\n    return d\n"
                             "def run_batch(b):\n    if any(json.loads(d).get('exit') for d in b):\n        sys.exit(2)\n    return b\n")
        with self.assertLogs("aml_host", level="WARNING") as logs:
            outcome = score_batch(msgs({"x": 1}, {"exit": True}, {"x": 3}), script=script)
        self.assertEqual([o.correlation_id for o in outcome.outputs], ["id-0", "id-2"])
        self.assertEqual([(f.source.message_id, f.error_type, f.error_message) for f in outcome.failed],
                         [("id-1", "ScriptExitError", "run() called sys.exit(1)")])
        self.assertIn("run_batch() called sys.exit(2)", "\n".join(logs.output))
        # One message: a MessageScoringError (the invocation fails, the message is redelivered),
        # not a SystemExit that would end the worker.
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(MessageScoringError):
                score_message(msgs({"exit": True})[0], script=script)

    def test_keyboard_interrupt_and_cancelled_error_in_run_fail_that_message_only(self):
        script = self.script("import asyncio, json\ndef init(): pass\n"
                             "def run(d):\n    o = json.loads(d)\n"
                             "    if o.get('ki'):\n        raise KeyboardInterrupt()\n"
                             "    if o.get('cancel'):\n        raise asyncio.CancelledError()\n    return o\n")
        with self.assertLogs("aml_host", level="ERROR"):
            outcome = score_batch(msgs({"x": 1}, {"ki": True}, {"cancel": True}, {"x": 4}), script=script)
        self.assertEqual([o.correlation_id for o in outcome.outputs], ["id-0", "id-3"])
        self.assertEqual([(f.source.message_id, f.error_type, f.error_message) for f in outcome.failed],
                         [("id-1", "ScriptExitError", "run() raised KeyboardInterrupt"),
                          ("id-2", "ScriptExitError", "run() raised CancelledError")])

    def test_wrong_length_from_run_batch_falls_back(self):
        script = self.script(PER_ITEM + "\ndef run_batch(b):\n    return [1]\n")
        with self.assertLogs("aml_host", level="WARNING") as logs:
            outcome = score_batch(msgs({"x": 1}, {"x": 2}), script=script)
        self.assertIn("returned 1 results for 2 inputs", "\n".join(logs.output))
        self.assertEqual([json.loads(o.body) for o in outcome.outputs], [{"double": 2}, {"double": 4}])

    def test_unserialisable_batch_result_fails_that_item_only(self):
        script = self.script("def init(): pass\ndef run(d): return d\n"
                             "def run_batch(b):\n    return [object() if d == 'x' else d for d in b]\n")
        with self.assertLogs("aml_host", level="ERROR"):
            outcome = score_batch([InboundMessage("a", b"ok"), InboundMessage("b", b"x")], script=script)
        self.assertEqual([o.correlation_id for o in outcome.outputs], ["a"])
        self.assertEqual([(f.source.message_id, f.error_type) for f in outcome.failed], [("b", "InvalidResult")])

    def test_init_failure_raises_without_run(self):
        script = self.script("def init():\n    raise OSError('model not reachable yet')\ndef run(d): return d\n",
                             **short_init_wait())
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(MessageScoringError) as err:
                score_batch(msgs({"x": 1}), script=script)
        self.assertIn("initialise", str(err.exception))


class WaitUntilReadyTest(ScriptTestCase):
    def test_a_retrying_init_is_waited_for_and_its_failure_fails_the_invocation(self):
        script = self.script(PER_ITEM)
        calls = []

        def wait_until_ready():
            calls.append(1)
            raise InitFailedError("still initialising")
        script.wait_until_ready = wait_until_ready
        broker = Broker(max_delivery_count=2)
        broker.enqueue(message("a", b'{"x": 1}'))
        with self.assertLogs("aml_host", level="ERROR"):
            broker.run(lambda b: deliver_batch(b, broker.sender(broker.output), broker.sender(broker.failed), script=script))
        self.assertEqual((len(calls), broker.failed_invocations, len(broker.dead_letter)), (2, 2, 1))
        self.assertEqual(broker.failed.messages, [])


class FailedMessageTest(ScriptTestCase):
    def test_keeps_original_body_and_properties_and_adds_error(self):
        src = InboundMessage("m-7", b"\x00raw", "application/octet-stream", 2, "caller-corr",
                             {"tenant": "t1", "priority": 3, "flag": True})
        out = failed_message(FailedMessage(src, "ValueError", "bad row"))
        self.assertEqual(out.body, b"\x00raw")
        self.assertEqual((out.content_type, out.correlation_id), ("application/octet-stream", "caller-corr"))
        self.assertEqual(out.message_id, expected_id("m-7", b"\x00raw"))
        self.assertEqual(dict(out.application_properties), {
            "tenant": "t1", "priority": 3, "flag": True, "aml-original-message-id": "m-7",
            "aml-error-type": "ValueError", "aml-error-message": "bad row"})

    def test_near_the_limit_the_body_is_cut_and_the_error_kept(self):
        script = self.script("def init(): pass\n"
                             "def run(d):\n    raise RuntimeError('e' * 600)\n")
        limit = 4096
        broker = Broker(max_message_bytes=limit)
        with self.assertLogs("aml_host", level="ERROR"):
            report = deliver_batch([message("m-2", b"x" * 4090)], broker.sender(broker.output),
                                   broker.sender(broker.failed), max_message_bytes=limit, script=script)
        self.assertEqual(len(report.failed), 1)
        [failed] = broker.failed.messages
        props = failed.application_properties
        self.assertEqual((props["aml-error-type"], props["aml-error-message"]), ("RuntimeError", "e" * 512))
        self.assertEqual((props["aml-body-truncated"], props["aml-original-body-bytes"]), (True, 4090))
        self.assertTrue(0 < len(failed.body) < 4090)
        self.assertEqual(failed.body, b"x" * len(failed.body))
        self.assertTrue(fits(failed, limit))

    def test_error_is_type_and_message_never_a_stack(self):
        script = self.script("def init(): pass\n"
                             "def run(d):\n    raise RuntimeError('x' * 5000)\n")
        broker = Broker()
        broker.enqueue(message("m-1", b"{}"))
        with self.assertLogs("aml_host", level="ERROR"):
            broker.run(lambda b: deliver_batch(b, broker.sender(broker.output), broker.sender(broker.failed),
                                               script=script))
        props = broker.failed.messages[0].application_properties
        self.assertEqual(props["aml-error-type"], "RuntimeError")
        self.assertEqual(len(props["aml-error-message"]), 512)
        self.assertNotIn("Traceback", json.dumps({k: str(v) for k, v in props.items()}))


STANDARD = 256 * 1024
PREMIUM_DEFAULT = 1024 * 1024
PREMIUM_MAX = 100 * 1024 * 1024
NOT_JSON = "The message body is not valid UTF-8 text."
PROPS = {"tenant": "t1", "priority": 3, "trace": "z" * 2000}


class FailedCopyFitsTest(ScriptTestCase):
    """The failed-queue copy adds an id and properties to the input, so an input near the queue's
    limit gave a copy the failed queue refused, and the whole batch was dead-lettered. The copy
    must fit whatever the input's size: at Standard's 256 KiB and Premium's 1 MiB (default) and
    100 MiB (largest), with and without application properties."""

    def copy(self, body, limit, props=None, error_type="InvalidInput", error=NOT_JSON):
        src = InboundMessage("m-big", body, "text/plain", 1, "corr-1", props or {})
        return failed_message(FailedMessage(src, error_type, error), limit)

    def assert_cut_copy(self, out, body, limit, props):
        self.assertTrue(fits(out, limit), (limit, len(body), encoded_size(out)))
        self.assertLessEqual(wire_size(out), limit)
        self.assertEqual(out.body, body[:len(out.body)])
        self.assertGreater(len(out.body), limit - 8 * 1024 - sum(len(str(v)) for v in props.values()))
        p = out.application_properties
        self.assertEqual((p["aml-body-truncated"], p["aml-original-body-bytes"]), (True, len(body)))
        self.assertEqual((p["aml-original-message-id"], p["aml-error-type"], p["aml-error-message"]),
                         ("m-big", "InvalidInput", NOT_JSON))
        self.assertEqual({k: p[k] for k in props}, props)
        self.assertEqual((out.message_id, out.correlation_id, out.content_type),
                         (output_message_id("m-big", body), "corr-1", "text/plain"))

    def test_inputs_at_the_limit_give_a_copy_that_fits(self):
        for limit in (STANDARD, PREMIUM_DEFAULT):
            for size in (limit, limit - 1, limit - 100):
                for props in ({}, PROPS):
                    with self.subTest(limit=limit, size=size, props=bool(props)):
                        body = b"\xff" + b"x" * (size - 1)
                        self.assert_cut_copy(self.copy(body, limit, props), body, limit, props)

    def test_premium_largest_message_size(self):
        body = b"\xff" * PREMIUM_MAX
        for props in ({}, PROPS):
            self.assert_cut_copy(self.copy(body, PREMIUM_MAX, props), body, PREMIUM_MAX, props)

    def test_the_largest_body_that_fits_is_kept_whole_and_one_byte_more_is_cut(self):
        for limit in (STANDARD, PREMIUM_DEFAULT):
            for props in ({}, PROPS):
                overhead = encoded_size(self.copy(b"", limit, props))
                largest = limit - 1024 - overhead  # 1024: BROKER_HEADROOM_BYTES
                whole = self.copy(b"y" * largest, limit, props)
                self.assertTrue(fits(whole, limit))
                self.assertEqual(whole.body, b"y" * largest)
                self.assertNotIn("aml-body-truncated", whole.application_properties)
                self.assertNotIn("aml-original-body-bytes", whole.application_properties)
                cut = self.copy(b"y" * (largest + 1), limit, props)
                self.assert_cut_copy(cut, b"y" * (largest + 1), limit, props)

    def test_properties_too_large_for_any_copy_are_left_out_and_said_so(self):
        # Standard allows 64 KB of headers; a copy of properties that alone exceed the limit
        # (whatever the broker allowed in) still must not fail the batch.
        huge = {f"p{i}": "v" * 1000 for i in range(300)}
        out = self.copy(b"{}", STANDARD, huge, error_type="E" * 500, error="\u00e9" * 600)
        self.assertTrue(fits(out, STANDARD))
        p = out.application_properties
        self.assertEqual(p["aml-original-properties-dropped"], True)
        self.assertFalse(any(k in p for k in huge))
        self.assertEqual((p["aml-original-message-id"], p["aml-error-type"][:3]), ("m-big", "EEE"))
        self.assertEqual((p["aml-body-truncated"], p["aml-original-body-bytes"]), (False, 2))
        self.assertEqual(out.body, b"{}")

    def test_a_copy_fits_the_smallest_limit_accepted(self):
        long_id = "\u4e2d" * 128
        src = InboundMessage(long_id, b"z" * 5000, "c" * 300, 1, "r" * 300, {"k": "v" * 3000})
        out = failed_message(FailedMessage(src, "T" * 300, "\u4e2d" * 512), 4096)
        self.assertTrue(fits(out, 4096), encoded_size(out))
        self.assertEqual(out.message_id, output_message_id(long_id, b"z" * 5000))


class BatchDeliveryTest(ScriptTestCase):
    """The issue's measurements, against a simulated broker (tests/servicebus_broker.py)."""

    def deliver(self, script, broker, **kw):
        return lambda batch: deliver_batch(batch, broker.sender(broker.output), broker.sender(broker.failed),
                                           script=script, **kw)

    def good_batch(self, n=31):
        return [message(f"good-{i}", json.dumps({"x": i}).encode()) for i in range(n)]

    def test_one_bad_message_in_32(self):
        script = self.script(WITH_BATCH)
        broker = Broker()
        batch = self.good_batch()
        batch.insert(13, message("bad", b'{"bad": true}', application_properties={"tenant": "t"},
                                 correlation_id="req-9"))
        broker.enqueue(*batch)
        with self.assertLogs("aml_host", level="WARNING"):
            broker.run(self.deliver(script, broker))
        self.assertEqual((broker.invocations, broker.failed_invocations), (1, 0))
        self.assertEqual(len(broker.completed), 32)
        self.assertEqual(broker.dead_letter, [])
        self.assertEqual(len(broker.output.messages), 31)
        self.assertEqual((broker.output.dropped_duplicates, broker.output.sends), (0, 1))
        self.assertEqual(sorted(m.correlation_id for m in broker.output.messages), sorted(f"good-{i}" for i in range(31)))
        [failed] = broker.failed.messages
        self.assertEqual((failed.body, failed.correlation_id), (b'{"bad": true}', "req-9"))
        self.assertEqual(failed.application_properties["tenant"], "t")
        self.assertEqual(failed.application_properties["aml-original-message-id"], "bad")
        self.assertEqual(failed.application_properties["aml-error-type"], "ValueError")

    def test_one_300_kb_result(self):
        script = self.script(WITH_BATCH)
        broker = Broker()
        batch = self.good_batch()
        batch.insert(5, message("huge", json.dumps({"big": 300 * 1024}).encode()))
        broker.enqueue(*batch)
        with self.assertLogs("aml_host", level="WARNING"):
            broker.run(self.deliver(script, broker))
        self.assertEqual((broker.invocations, broker.failed_invocations), (1, 0))
        self.assertEqual(len(broker.output.messages), 31)
        self.assertEqual(broker.refused_as_too_large, 0)  # detected before sending
        [failed] = broker.failed.messages
        self.assertEqual(failed.application_properties["aml-error-type"], "ResultTooLarge")
        self.assertEqual(failed.application_properties["aml-original-message-id"], "huge")
        self.assertTrue(all(wire_size(m) <= broker.max_message_bytes for m in broker.output.messages))

    def test_premium_limit_lets_the_300_kb_result_through(self):
        script = self.script(WITH_BATCH)
        broker = Broker(max_message_bytes=1024 * 1024)
        broker.enqueue(message("huge", json.dumps({"big": 300 * 1024}).encode()), *self.good_batch(3))
        broker.run(self.deliver(script, broker, max_message_bytes=1024 * 1024))
        self.assertEqual((len(broker.output.messages), len(broker.failed.messages)), (4, 0))
        self.assertEqual(broker.output.sends, 1)  # 300 KB + 3 small results fit one 1 MiB send batch

    def test_result_refused_by_the_sdk_is_routed_to_the_failed_queue(self):
        # The namespace accepts less than aml.json says (estimate and reality disagree): the SDK
        # refuses; the batch is split and only the oversized result goes to the failed queue.
        script = self.script(WITH_BATCH)
        broker = Broker(max_message_bytes=100 * 1024)
        broker.enqueue(*self.good_batch(6), message("big", json.dumps({"big": 150 * 1024}).encode()))
        with self.assertLogs("aml_host", level="WARNING"):
            broker.run(self.deliver(script, broker))
        self.assertEqual(broker.failed_invocations, 0)
        self.assertGreater(broker.refused_as_too_large, 0)
        self.assertEqual(len(broker.output.messages), 6)
        self.assertEqual([m.application_properties["aml-original-message-id"] for m in broker.failed.messages], ["big"])

    def test_deeply_nested_200_kb_message_with_schema_script(self):
        test_http.SchemaModeTest.install_fake_inference_schema(self)
        script = self.script(SCHEMA_SCRIPT)
        depth = 100 * 1024
        nested = ('{"data": ' + "[" * depth + "]" * depth + "}").encode()
        self.assertGreaterEqual(len(nested), 200 * 1024)
        broker = Broker()
        broker.enqueue(message("ok-1", b'{"data": [1, 2]}'), message("deep", nested), message("ok-2", b'{"data": [3]}'))
        with self.assertLogs("aml_host", level="WARNING"):
            broker.run(self.deliver(script, broker))
        self.assertEqual(broker.failed_invocations, 0)
        self.assertEqual(sorted(m.correlation_id for m in broker.output.messages), ["ok-1", "ok-2"])
        [failed] = broker.failed.messages
        self.assertEqual(failed.body, nested)
        self.assertEqual(failed.application_properties["aml-error-type"], "InvalidInput")
        # RecursionError caught here, or the host's own "nested too deeply" refusal
        self.assertRegex(failed.application_properties["aml-error-message"], "RecursionError|nested too deeply")

    def test_message_without_id_goes_to_the_failed_queue(self):
        script = self.script(PER_ITEM)
        broker = Broker()
        broker.enqueue(message(None, b'{"x": 1}'), message("", b'{"x": 2}'), message("a", b'{"x": 3}'))
        with self.assertLogs("aml_host", level="WARNING"):
            broker.run(self.deliver(script, broker))
        self.assertEqual([m.correlation_id for m in broker.output.messages], ["a"])
        self.assertEqual([m.application_properties["aml-error-type"] for m in broker.failed.messages],
                         ["MissingMessageId", "MissingMessageId"])
        self.assertEqual([m.body for m in broker.failed.messages], [b'{"x": 1}', b'{"x": 2}'])
        self.assertEqual(len(script.module.RUN_CALLS), 1)

    def test_two_distinct_messages_reusing_an_id_give_two_outputs(self):
        script = self.script(PER_ITEM)
        broker = Broker()
        broker.enqueue(message("same", b'{"x": 1}'), message("same", b'{"x": 2}'))
        broker.run(self.deliver(script, broker))
        self.assertEqual(sorted(json.loads(m.body)["double"] for m in broker.output.messages), [2, 4])
        self.assertEqual([m.correlation_id for m in broker.output.messages], ["same", "same"])
        self.assertEqual(len({m.message_id for m in broker.output.messages}), 2)

    def test_redelivered_batch_gives_the_same_ids_and_is_deduplicated(self):
        script = self.script(WITH_BATCH)
        broker = Broker()
        batch = self.good_batch()
        batch.append(message("bad", b'{"bad": 1}'))
        broker.enqueue(*batch)
        broker.fail_sends_to["outqueue-failed"] = 1  # the first try sends the results, then fails
        with self.assertLogs("aml_host", level="WARNING"):
            broker.run(self.deliver(script, broker))
        self.assertEqual((broker.invocations, broker.failed_invocations), (2, 1))
        self.assertEqual(len(broker.output.messages), 31)
        self.assertEqual(broker.output.dropped_duplicates, 31)  # same ids on the retry
        self.assertEqual(len(broker.failed.messages), 1)
        self.assertEqual(len(broker.completed), 32)
        self.assertEqual(broker.dead_letter, [])

    def test_output_send_failing_fails_the_invocation(self):
        script = self.script(PER_ITEM)
        broker = Broker(max_delivery_count=3)
        broker.enqueue(*self.good_batch(4))
        broker.fail_sends_to["outqueue"] = 1
        with self.assertRaises(DeliveryError) as err:
            self.deliver(script, broker)(broker.input[:4])
        self.assertIn("output queue", str(err.exception))
        broker.fail_sends_to["outqueue"] = 1
        broker.run(self.deliver(script, broker))
        self.assertEqual((broker.failed_invocations, len(broker.output.messages), len(broker.completed)), (1, 4, 4))

    def test_failed_queue_send_failing_fails_the_invocation(self):
        script = self.script(PER_ITEM)
        broker = Broker()
        broker.fail_sends_to["outqueue-failed"] = 1
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(DeliveryError) as err:
                self.deliver(script, broker)([message("bad", b'{"bad": 1}')])
        self.assertIn("failed queue", str(err.exception))

    def test_init_failure_fails_the_invocation(self):
        script = self.script("def init():\n    raise OSError('role not propagated')\ndef run(d): return d\n",
                             **short_init_wait())
        broker = Broker(max_delivery_count=2)
        broker.enqueue(*self.good_batch(3))
        with self.assertLogs("aml_host", level="ERROR"):
            broker.run(self.deliver(script, broker))
        self.assertEqual((broker.failed_invocations, len(broker.dead_letter)), (2, 3))
        self.assertEqual((broker.output.messages, broker.failed.messages), ([], []))


class OversizedBadMessageTest(ScriptTestCase):
    """The review's reproduction: 8 good messages and one that is not JSON, within 100 bytes of the
    queue's limit. Its failed-queue copy (input + id + error properties) used to be refused, the
    invocation failed, and after maxDeliveryCount all 9 were dead-lettered."""

    def run_batch(self, limit, broker_limit=None, bad_size=None):
        script = self.script(PER_ITEM)
        broker = Broker(max_delivery_count=10, max_message_bytes=broker_limit or limit)
        bad = message("not-json", b"x" * (bad_size or limit - 100), application_properties={"tenant": "t1"},
                      correlation_id="c-9")
        self.assertLessEqual(wire_size(OutboundMessage(bad.body, "not-json", "c-9", bad.content_type,
                                                       bad.application_properties)), limit)
        good = [message(f"good-{i}", json.dumps({"x": i}).encode()) for i in range(8)]
        broker.enqueue(*good[:4], bad, *good[4:])
        with self.assertLogs("aml_host", level="WARNING") as logs:
            broker.run(lambda b: deliver_batch(b, broker.sender(broker.output), broker.sender(broker.failed),
                                               max_message_bytes=limit, script=script))
        return broker, bad, "\n".join(logs.output)

    def test_standard_and_premium(self):
        for limit in (STANDARD, PREMIUM_DEFAULT):
            with self.subTest(limit=limit):
                broker, bad, logs = self.run_batch(limit)
                self.assertEqual((broker.invocations, broker.failed_invocations, len(broker.dead_letter)), (1, 0, 0))
                self.assertEqual(len(broker.completed), 9)
                self.assertEqual(sorted(m.correlation_id for m in broker.output.messages), [f"good-{i}" for i in range(8)])
                [failed] = broker.failed.messages
                p = failed.application_properties
                self.assertEqual((p["aml-original-message-id"], p["tenant"], p["aml-body-truncated"],
                                  p["aml-original-body-bytes"]), ("not-json", "t1", True, len(bad.body)))
                self.assertEqual(failed.body, bad.body[:len(failed.body)])
                self.assertIn("not-json", logs)
                self.assertIn(f"first {len(failed.body)} of {len(bad.body)} body bytes", logs)

    def test_a_queue_smaller_than_declared_gets_the_copy_without_its_body(self):
        # maxMessageBytes says 256 KiB but the (existing) failed queue accepts 100 KiB: the SDK
        # refuses the cut copy; a copy without the body is sent instead of failing the batch.
        broker, bad, logs = self.run_batch(STANDARD, broker_limit=100 * 1024, bad_size=150 * 1024)
        self.assertEqual((broker.failed_invocations, len(broker.dead_letter)), (0, 0))
        self.assertGreater(broker.refused_as_too_large, 0)
        self.assertEqual(len(broker.output.messages), 8)
        [failed] = broker.failed.messages
        p = failed.application_properties
        self.assertEqual((failed.body, p["aml-body-truncated"], p["aml-original-body-bytes"]), (b"", True, 150 * 1024))
        self.assertEqual(p["aml-original-message-id"], "not-json")
        self.assertIn("refused", logs)


class SendingHelpersTest(ScriptTestCase):
    def test_chunking_keeps_order_and_size(self):
        outs = [OutboundMessage(b"x" * 1000, str(i), str(i)) for i in range(10)]
        budget = 4 * 1024
        chunks = chunk_for_send(outs, max_bytes=budget)
        self.assertEqual([o.message_id for c in chunks for o in c], [str(i) for i in range(10)])
        self.assertTrue(all(sum(encoded_size(o) for o in c) <= budget - 1024 for c in chunks))
        self.assertGreater(len(chunks), 1)
        self.assertEqual(chunk_for_send([], 256 * 1024), [])
        self.assertEqual(len(chunk_for_send(outs, 256 * 1024)), 1)
        huge = [OutboundMessage(b"x" * 10_000, "h", "h")]
        self.assertEqual(chunk_for_send(huge, max_bytes=4096), [huge])

    def test_encoded_size_bounds_the_wire_size(self):
        msg = OutboundMessage(b"b" * 777, "id-\u00e9", "corr", "application/json", {"k\u00e9y": "v" * 50, "n": 3})
        self.assertGreaterEqual(encoded_size(msg), wire_size(msg))
        self.assertLess(encoded_size(msg), wire_size(msg) + 200)

    def test_output_target(self):
        env = {"SB__fullyQualifiedNamespace": "ns.servicebus.windows.net", "SB__clientId": "cid"}
        t = output_target({"kind": "servicebus", "connection": "SB", "outputQueue": "outqueue", "cardinality": "many",
                           "failedQueue": "outqueue-failed", "maxMessageBytes": 1048576}, env)
        self.assertEqual((t.fully_qualified_namespace, t.client_id, t.queue_name, t.failed_queue_name, t.max_message_bytes),
                         ("ns.servicebus.windows.net", "cid", "outqueue", "outqueue-failed", 1048576))
        one = output_target({"connection": "SB", "outputQueue": "q"}, {"SB__fullyQualifiedNamespace": "n"})
        self.assertEqual((one.client_id, one.failed_queue_name, one.max_message_bytes), (None, None, 262144))
        with self.assertRaises(ValueError) as err:
            output_target({"connection": "SB", "outputQueue": "q"}, {})
        self.assertIn("SB__fullyQualifiedNamespace", str(err.exception))
        with self.assertRaises(ValueError):
            output_target({"connection": "SB"}, env)
        with self.assertRaises(ValueError) as err:
            output_target({"connection": "SB", "outputQueue": "q", "cardinality": "many"}, env)
        self.assertIn("failedQueue", str(err.exception))
        with self.assertRaises(ValueError):
            output_target({"connection": "SB", "outputQueue": "q", "maxMessageBytes": "big"}, env)
