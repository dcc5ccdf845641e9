"""Train the sample churn model (deterministic) and write models/churn/model.joblib.

Run with the interpreter that has scikit-learn 1.2.1 (Debian's python3-sklearn):
    /usr/bin/python3 examples/churn/train.py

Synthetic, churn-like data: 10 numeric features per customer
(tenure_months, monthly_charges, total_charges, support_calls, late_payments,
 contract_months, num_products, satisfaction, data_usage_gb, age), label 1 = churned.
"""

import os

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier

FEATURES = [
    "tenure_months", "monthly_charges", "total_charges", "support_calls", "late_payments",
    "contract_months", "num_products", "satisfaction", "data_usage_gb", "age",
]
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models", "churn", "model.joblib")


def make_data(n: int = 2000, seed: int = 7):
    rng = np.random.RandomState(seed)
    tenure = rng.randint(1, 73, n).astype(float)
    monthly = rng.uniform(20, 120, n)
    total = tenure * monthly * rng.uniform(0.9, 1.1, n)
    calls = rng.poisson(2, n).astype(float)
    late = rng.poisson(0.5, n).astype(float)
    contract = rng.choice([1.0, 12.0, 24.0], n)
    products = rng.randint(1, 6, n).astype(float)
    satisfaction = rng.randint(1, 11, n).astype(float)
    usage = rng.gamma(2.0, 10.0, n)
    age = rng.randint(18, 80, n).astype(float)
    x = np.column_stack([tenure, monthly, total, calls, late, contract, products, satisfaction, usage, age])
    logit = (-0.04 * tenure + 0.02 * monthly + 0.45 * calls + 0.6 * late - 0.08 * contract
             - 0.3 * products - 0.35 * satisfaction + 1.5)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return x, y


def main() -> None:
    x, y = make_data()
    model = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)
    model.fit(x, y)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    joblib.dump(model, OUT, compress=3)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes); training accuracy {model.score(x, y):.3f}")


if __name__ == "__main__":
    main()
