"""The Service Bus adapter of the synthesized sample app (churn model; a cardinality-one and a
cardinality-many function) in the REAL Functions worker, run by worker_harness.py from
__tests__/project/real-worker.test.ts. Only the azure-servicebus SDK send is a stand-in.

The issue's other hostile inputs (a 300 KB result from a small message, 200 KB of nested JSON for
an inference-schema script) need another entry script than the sample's: they are in
worker_hostile_servicebus.py, run by __tests__/triggers/service-bus-worker.test.ts."""

import hashlib
import json

from servicebus_worker_support import ServiceBusWorkerTestCase, batch, single


def row(i):
    return [float(i % 7), 1, 0, 2, 3.5, 0, 1, 4, 2, 1]


def body(*rows):
    return json.dumps({"data": list(rows)}).encode()


def out_id(message_id, data):
    return hashlib.sha256(message_id.encode() + hashlib.sha256(data).digest()).hexdigest()[:32]


class SingleMessageInRealWorkerTest(ServiceBusWorkerTestCase):
    def test_result_sent_with_derived_id_and_correlation_id(self):
        data = body(row(1), row(2))
        r = self.invoke(self.one, single(data, "m-1"))
        self.assertTrue(r.ok, r.error)
        [out] = self.outputs(self.one)
        self.assertEqual((out.message_id, out.correlation_id, out.content_type), (out_id("m-1", data), "m-1", "application/json"))
        prediction = json.loads(out.body)
        self.assertEqual(len(prediction), 2)
        self.assertTrue(set(prediction) <= {0, 1})

    def test_bad_or_id_less_message_fails_the_invocation_and_sends_nothing(self):
        for data, message_id, text in ((body([1, 2, 3]), "m-bad", "m-bad"), (body(row(1)), None, "no message id")):
            r = self.invoke(self.one, single(data, message_id))
            self.assertFalse(r.ok)
            self.assertIn(text, r.error)
        self.assertEqual(self.sdk.SENT, [])


class BatchInRealWorkerTest(ServiceBusWorkerTestCase):
    def hostile(self):
        depth = 50_000
        items = [(f"good-{n}", body(row(n)), {"n": n}) for n in range(29)]
        items.insert(4, ("bad", body([1, 2, 3]), {"tenant": "t1"}))
        items.insert(11, ("deep", b'{"data": ' + b"[" * depth + b"]" * depth + b"}", {}))
        items.insert(20, (None, body(row(3)), {}))
        return items

    def test_bad_messages_go_to_the_failed_queue_and_the_batch_succeeds(self):
        items = self.hostile()
        self.assertEqual(len(items), 32)
        r = self.invoke(self.many, batch(items))
        self.assertTrue(r.ok, r.error)
        outputs = self.outputs(self.many)
        self.assertEqual(sorted(m.correlation_id for m in outputs), sorted(f"good-{n}" for n in range(29)))
        self.assertEqual(len({m.message_id for m in outputs}), 29)
        failed = self.failed(self.many)
        self.assertEqual(sorted(failed), ["", "bad", "deep"])
        self.assertEqual({k: m.application_properties["aml-error-type"] for k, m in failed.items()},
                         {"bad": "ValueError", "deep": "RecursionError", "": "MissingMessageId"})
        bad = failed["bad"]
        self.assertEqual((bad.body, bad.correlation_id, bad.application_properties["tenant"]), (body([1, 2, 3]), "corr-4", "t1"))
        self.assertIn("expected rows of 10 numbers", bad.application_properties["aml-error-message"])
        self.assertTrue(any("sent to the failed queue" in log for log in r.logs), r.logs[-5:])

    def test_a_bad_message_near_the_size_limit_does_not_take_its_batch(self):
        # Its failed-queue copy would be larger than the input (id, error properties); the SDK
        # stand-in refuses what the queue would, so a copy that does not fit fails the invocation.
        limit = self.app.settings_of(self.many)["maxMessageBytes"]
        self.sdk.CONTROL["max_batch_bytes"] = limit
        near = b"not json " + b"x" * (limit - 100 - 9)
        items = [(f"good-{n}", body(row(n)), {}) for n in range(8)]
        items.insert(4, ("near-limit", near, {"tenant": "t1"}))
        r = self.invoke(self.many, batch(items))
        self.assertTrue(r.ok, r.error)
        self.assertEqual(sorted(m.correlation_id for m in self.outputs(self.many)), [f"good-{n}" for n in range(8)])
        copy = self.failed(self.many)["near-limit"]
        props = copy.application_properties
        self.assertEqual((props["aml-body-truncated"], props["aml-original-body-bytes"], props["tenant"]),
                         (True, len(near), "t1"))
        self.assertEqual(props["aml-error-type"], "JSONDecodeError")
        self.assertEqual((copy.body, copy.correlation_id), (near[:len(copy.body)], "corr-4"))
        self.assertGreater(len(copy.body), limit - 4096)
        self.assertLessEqual(copy.size(), limit)

    def test_a_redelivered_batch_gives_the_same_ids(self):
        items = self.hostile()
        self.assertTrue(self.invoke(self.many, batch(items)).ok)
        first = ([m.message_id for m in self.outputs(self.many)], sorted(m.message_id for m in self.failed(self.many).values()))
        self.sdk.reset()
        self.assertTrue(self.invoke(self.many, batch(items)).ok)
        again = ([m.message_id for m in self.outputs(self.many)], sorted(m.message_id for m in self.failed(self.many).values()))
        self.assertEqual(again, first)

    def test_two_messages_reusing_an_id_give_two_results(self):
        r = self.invoke(self.many, batch([("same", body(row(1)), {}), ("same", body(row(1), row(2)), {})]))
        self.assertTrue(r.ok, r.error)
        outputs = self.outputs(self.many)
        self.assertEqual([len(json.loads(m.body)) for m in outputs], [1, 2])
        self.assertEqual([m.correlation_id for m in outputs], ["same", "same"])
        self.assertNotEqual(outputs[0].message_id, outputs[1].message_id)

    def test_a_failing_send_fails_the_invocation(self):
        settings = self.app.settings_of(self.many)
        for queue, text in ((settings["outputQueue"], "output queue"), (settings["failedQueue"], "failed queue")):
            self.sdk.reset()
            self.sdk.CONTROL["fail"] = {queue: 1}
            r = self.invoke(self.many, batch([("a", body(row(1)), {}), ("bad", body([1]), {})]))
            self.assertFalse(r.ok)
            self.assertIn(text, r.error)
