"""Azure ML entry script for the sample churn model.

init()  loads $AZUREML_MODEL_DIR/churn/model.joblib once per worker.
run()   takes '{"data": [[10 numbers], ...]}' and returns one prediction (0/1) per row.
run_batch() scores many such JSON strings with ONE predict call and returns one result each.
"""

import json
import logging
import os

import joblib
import numpy as np

model = None
N_FEATURES = 10


def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "churn", "model.joblib")
    model = joblib.load(path)
    logging.info("churn model loaded from %s", path)


def _rows(raw_data):
    data = json.loads(raw_data)["data"]
    rows = np.asarray(data, dtype=float)
    if rows.ndim != 2 or rows.shape[1] != N_FEATURES:
        raise ValueError(f"expected rows of {N_FEATURES} numbers, got shape {rows.shape}")
    return rows


def run(raw_data):
    rows = _rows(raw_data)
    return [int(p) for p in model.predict(rows)]


def run_batch(mini_batch):
    blocks = [_rows(raw) for raw in mini_batch]
    predictions = model.predict(np.concatenate(blocks)) if blocks else []
    results, start = [], 0
    for block in blocks:
        end = start + len(block)
        results.append([int(p) for p in predictions[start:end]])
        start = end
    return results
