"""The Service Bus adapter with stand-in azure.functions types and the stand-in SDK
(tests/fake_servicebus_sdk.py): conversions, which queue gets what, which failures fail the
invocation. worker_test_servicebus.py and worker_hostile_servicebus.py run the same adapter in
the real Functions worker."""

import hashlib
import importlib
import inspect
import json
import os
import sys

from . import fake_servicebus_sdk as sdk
from .test_adapters import AdapterTestCase


def out_id(input_id, body):
    return hashlib.sha256(input_id.encode() + hashlib.sha256(body).digest()).hexdigest()[:32]


class ServiceBusAdapterTest(AdapterTestCase):
    SETTINGS = {"kind": "servicebus", "connection": "TriggerSB", "outputQueue": "outqueue", "cardinality": "one",
                "maxMessageBytes": 262144}
    MANY = dict(SETTINGS, cardinality="many", failedQueue="outqueue-failed")

    def setUp(self):
        super().setUp()
        saved = {n: sys.modules.get(n) for n in ("azure.identity", "azure.servicebus", "azure.servicebus.exceptions")}
        self.addCleanup(lambda: [sys.modules.pop(n, None) if m is None else sys.modules.__setitem__(n, m)
                                 for n, m in saved.items()])
        sdk.install()
        sdk.reset()
        self.addCleanup(sdk.reset)
        self.set_env(TriggerSB__fullyQualifiedNamespace="ns.servicebus.windows.net", TriggerSB__clientId="client-1")
        self.adapter = importlib.import_module("adapters.servicebus_adapter")

    def msg(self, body, message_id):
        return self.func.ServiceBusMessage(body, message_id)

    def test_single_message_sent_with_derived_id(self):
        ctx = self.func.Context(self.function_dir(self.SETTINGS))
        self.adapter.main(self.msg(b'{"x": 5}', "m-1"), ctx)
        [m] = sdk.sent_to("outqueue")
        self.assertEqual((m.body, m.message_id, m.correlation_id, m.content_type, m.application_properties),
                         (b'{"double": 10}', out_id("m-1", b'{"x": 5}'), "m-1", "application/json", None))
        self.assertEqual((sdk.CLIENTS[0].namespace, sdk.CLIENTS[0].credential.client_id),
                         ("ns.servicebus.windows.net", "client-1"))

    def test_single_failure_sends_nothing_and_raises(self):
        ctx = self.func.Context(self.function_dir(self.SETTINGS))
        with self.assertLogs("aml_host", level="ERROR"):
            with self.assertRaises(Exception) as err:
                self.adapter.main(self.msg(b'{"bad": 1}', "m-bad"), ctx)
        self.assertIn("m-bad", str(err.exception))
        self.assertEqual(sdk.SENT, [])

    def test_batch_bad_message_goes_to_failed_queue_and_invocation_succeeds(self):
        ctx = self.func.Context(self.function_dir(self.MANY))
        with self.assertLogs("aml_host", level="WARNING") as logs:
            self.adapter.main([self.msg(b'{"x": 1}', "a"), self.msg(b'{"bad": 1}', "b"), self.msg(b'{"x": 3}', "c")], ctx)
        self.assertIn("1 message(s) sent to the failed queue: b: ValueError", "\n".join(logs.output))
        self.assertEqual([(m.correlation_id, m.body) for m in sdk.sent_to("outqueue")],
                         [("a", b'{"double": 2}'), ("c", b'{"double": 6}')])
        [failed] = sdk.sent_to("outqueue-failed")
        self.assertEqual(failed.body, b'{"bad": 1}')
        self.assertEqual(failed.message_id, out_id("b", b'{"bad": 1}'))
        self.assertEqual((failed.application_properties["aml-original-message-id"],
                          failed.application_properties["aml-error-type"]), ("b", "ValueError"))

    def test_batch_output_send_failing_fails_the_invocation(self):
        ctx = self.func.Context(self.function_dir(self.MANY))
        sdk.CONTROL["fail"] = {"outqueue": 1}
        with self.assertRaises(Exception) as err:
            self.adapter.main([self.msg(b'{"x": 1}', "a")], ctx)
        self.assertIn("output queue", str(err.exception))
        self.assertIn("ServiceBusConnectionError", str(err.exception))

    def test_batch_sdk_size_refusal_routes_that_result_to_failed_queue(self):
        ctx = self.func.Context(self.function_dir(self.MANY))
        sdk.CONTROL["max_batch_bytes"] = 5000
        big = json.dumps({"x": "y" * 3000}).encode()
        with self.assertLogs("aml_host", level="WARNING"):
            self.adapter.main([self.msg(b'{"x": 1}', "a"), self.msg(big, "big"), self.msg(b'{"x": 2}', "c")], ctx)
        self.assertEqual([m.correlation_id for m in sdk.sent_to("outqueue")], ["a", "c"])
        self.assertEqual([m.application_properties["aml-error-type"] for m in sdk.sent_to("outqueue-failed")],
                         ["ResultTooLarge"])

    def test_batch_all_good(self):
        ctx = self.func.Context(self.function_dir(self.MANY))
        self.adapter.main([self.msg(b'{"x": 1}', "a")], ctx)
        self.assertEqual([m.correlation_id for m in sdk.sent_to("outqueue")], ["a"])
        self.assertEqual(sdk.sent_to("outqueue-failed"), [])

    def test_parameter_names_match_bindings(self):
        self.assertEqual(list(inspect.signature(self.adapter.main).parameters), ["msg", "context"])

    def test_missing_aml_json_is_clear(self):
        ctx = self.func.Context(os.path.join(self.tmp, "nowhere"))
        with self.assertRaises(ValueError) as err:
            self.adapter.main(self.msg(b'{"x": 1}', "a"), ctx)
        self.assertIn("aml.json", str(err.exception))
