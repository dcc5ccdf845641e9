"""Messages scored per second by aml_host with the sample scikit-learn model (examples/churn):
one call per message (batches of 1, ``run``) vs one call per batch of 32 (``run_batch``).

Both go through aml_host.servicebus.score_batch, the path the Service Bus adapter uses
(input conversion, the entry script, result serialisation, output messages); only sending is
left out. Also measured: the whole batch delivery (deliver_batch: output ids, size checks,
chunking, with in-memory senders) to show what the delivery contract costs on top of scoring.
Budget: batch path >= 5x. Prints one JSON line. Run with an interpreter that has
scikit-learn 1.2.1:  /usr/bin/python3 scoring-image/bench/bench_scoring.py
"""

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCORING_IMAGE = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(SCORING_IMAGE)
CHURN = os.path.join(REPO_ROOT, "examples", "churn")
sys.path.insert(0, SCORING_IMAGE)

from aml_host.script import EntryScript  # noqa: E402
from aml_host.servicebus import InboundMessage, deliver_batch, score_batch  # noqa: E402


def make_messages(n):
    with open(os.path.join(CHURN, "sample-request.json")) as f:
        rows = json.load(f)["data"]
    msgs = []
    for i in range(n):
        row = [v * (1 + (i % 7) / 100.0) for v in rows[i % len(rows)]]
        msgs.append(InboundMessage(f"msg-{i:06d}", json.dumps({"data": [row]}).encode("utf-8")))
    return msgs


def rate(script, msgs, batch_size):
    started = time.perf_counter()
    scored = 0
    for i in range(0, len(msgs), batch_size):
        outcome = score_batch(msgs[i:i + batch_size], script=script)
        if outcome.failed_ids or (batch_size > 1 and not outcome.used_run_batch):
            raise SystemExit(f"benchmark batch did not take the intended path: {outcome.failed_ids}")
        scored += len(outcome.outputs)
    elapsed = time.perf_counter() - started
    assert scored == len(msgs)
    return scored / elapsed


def delivered_rate(script, msgs, batch_size):
    sent = []
    started = time.perf_counter()
    for i in range(0, len(msgs), batch_size):
        report = deliver_batch(msgs[i:i + batch_size], sent.extend, sent.extend, script=script)
        if report.failed:
            raise SystemExit(f"benchmark batch had failed messages: {report.failed}")
    elapsed = time.perf_counter() - started
    assert len(sent) == len(msgs)
    return len(msgs) / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import sklearn

    os.environ["AZUREML_MODEL_DIR"] = os.path.join(CHURN, "models")
    script = EntryScript(os.path.join(CHURN, "scoring", "score.py"))
    script.ensure_ready()
    msgs = make_messages(args.messages)
    rate(script, msgs[:64], 1)  # warm-up
    rate(script, msgs[:64], args.batch)

    per_message, batched, delivered = [], [], []
    for _ in range(args.runs):
        per_message.append(rate(script, msgs, 1))
        batched.append(rate(script, msgs, args.batch))
        delivered.append(delivered_rate(script, msgs, args.batch))
    per = statistics.median(per_message)
    bat = statistics.median(batched)
    dlv = statistics.median(delivered)
    print(json.dumps({
        "per_message_msgs_per_s": round(per, 1),
        f"batch{args.batch}_msgs_per_s": round(bat, 1),
        "speedup": round(bat / per, 2),
        f"batch{args.batch}_delivered_msgs_per_s": round(dlv, 1),
        "runs": args.runs,
        "messages": args.messages,
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()
