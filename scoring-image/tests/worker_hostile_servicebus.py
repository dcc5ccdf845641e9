"""The issue's hostile Service Bus batch in the REAL Functions worker, against an app synthesized
with an inference-schema style entry script (``run(data)``: ``"bad"`` raises, ``"exit"`` calls
``sys.exit(1)``, ``{"big": n}`` returns n characters, a number is doubled). Run by __tests__/triggers/service-bus-worker.test.ts through
``worker_harness.py --pattern worker_hostile_servicebus.py`` (not a ``worker_test_*`` module:
the sample app of real-worker.test.ts has another script)."""

import json

from servicebus_worker_support import ServiceBusWorkerTestCase, batch, single

DEPTH = 100 * 1024
DEEP = ('{"data": ' + "[" * DEPTH + "]" * DEPTH + "}").encode()
BIG = json.dumps({"data": {"big": 300 * 1024}}).encode()


def body(value):
    return json.dumps({"data": value}).encode()


class HostileBatchTest(ServiceBusWorkerTestCase):
    def test_32_messages_5_hostile(self):
        items = [(f"good-{n}", body(n), {"n": n}) for n in range(27)]
        items.insert(3, ("bad", body("bad"), {"tenant": "t1"}))
        items.insert(9, ("huge", BIG, {}))
        items.insert(17, ("deep", DEEP, {}))
        items.insert(21, ("exit", body("exit"), {}))
        items.insert(25, (None, body(5), {}))
        self.assertEqual(len(items), 32)
        self.assertGreaterEqual(len(DEEP), 200 * 1024)
        r = self.invoke(self.many, batch(items))
        self.assertTrue(r.ok, r.error)

        outputs = self.outputs(self.many)
        self.assertEqual(sorted(m.correlation_id for m in outputs), sorted(f"good-{n}" for n in range(27)))
        self.assertEqual({m.correlation_id: json.loads(m.body) for m in outputs}["good-7"], {"double": 14})
        self.assertEqual(len({m.message_id for m in outputs}), 27)
        limit = self.app.settings_of(self.many)["maxMessageBytes"]
        self.assertTrue(all(len(m.body) < limit for m in outputs))

        failed = self.failed(self.many)
        self.assertEqual(sorted(failed), ["", "bad", "deep", "exit", "huge"])
        types = {k: m.application_properties["aml-error-type"] for k, m in failed.items()}
        self.assertEqual(types, {"bad": "ValueError", "huge": "ResultTooLarge", "deep": "InvalidInput", "exit": "ScriptExitError",
                                 "": "MissingMessageId"})
        self.assertEqual(failed["exit"].application_properties["aml-error-message"], "run() called sys.exit(1)")
        self.assertRegex(failed["deep"].application_properties["aml-error-message"], "RecursionError|nested too deeply")
        self.assertEqual((failed["deep"].body, failed["huge"].body), (DEEP, BIG))
        self.assertEqual((failed["bad"].correlation_id, failed["bad"].application_properties["tenant"]), ("corr-3", "t1"))
        for m in failed.values():
            self.assertNotIn("Traceback", json.dumps({k: str(v) for k, v in m.application_properties.items()}))

        # The worker is still there: the next invocation is scored.
        sent_before = len(self.outputs(self.one))
        again = self.invoke(self.one, single(body(21), "m-after"))
        self.assertTrue(again.ok, again.error)
        self.assertEqual([(m.correlation_id, json.loads(m.body)) for m in self.outputs(self.one)[sent_before:]], [("m-after", {"double": 42})])

    def test_single_message_too_large_result_fails_without_sending(self):
        r = self.invoke(self.one, single(BIG, "m-big"))
        self.assertFalse(r.ok)
        self.assertIn("exceeds the 262144 bytes", r.error)
        self.assertEqual(self.sdk.SENT, [])
