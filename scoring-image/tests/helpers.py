"""Fixtures: small entry scripts written to temporary folders."""

import os
import shutil
import sys
import tempfile
import textwrap
import unittest

from aml_host.script import EntryScript, InitRetryPolicy

# Tests wait at most this long for an init() that succeeds; failing-init tests pass their own
# policy with short waits (see test_init_retry.py).
TEST_POLICY = InitRetryPolicy(first_delay=5.0, max_delay=60.0, trigger_wait=30.0, http_wait=30.0)

SCORING_IMAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(SCORING_IMAGE)


class ScriptTestCase(unittest.TestCase):
    """Gives each test a temp folder, a model folder, and a way to load a script from source."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="aml_host_test_")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.model_dir = os.path.join(self.tmp, "azureml-models")
        os.makedirs(os.path.join(self.model_dir, "churn"))
        with open(os.path.join(self.model_dir, "churn", "model.pkl"), "wb") as f:
            f.write(b"\x00" * 10)
        saved_path = list(sys.path)
        self.addCleanup(lambda: sys.path.__setitem__(slice(None), saved_path))

    def write_script(self, source: str, name: str = "score.py", folder: str = "src") -> str:
        path = os.path.join(self.tmp, folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
        return path

    def set_env(self, **values: str) -> None:
        """Sets environment variables for this test; the old values come back afterwards."""
        for key, value in values.items():
            old = os.environ.get(key)
            os.environ[key] = value
            self.addCleanup(lambda k=key, v=old: os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v))

    def script(self, source: str, policy: InitRetryPolicy = TEST_POLICY, **kw) -> EntryScript:
        script = EntryScript(self.write_script(source, **kw), model_dir=self.model_dir, policy=policy)
        self.addCleanup(script.close)  # stop retrying a failing init() when the test ends
        return script


def forget_modules(prefix: str) -> None:
    for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
        del sys.modules[name]
