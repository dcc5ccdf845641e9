"""Runs the function folders of a STAGED BUILD CONTEXT in the real Azure Functions Python worker.

The worker (4.34.0), its mock host and the real ``azure.functions`` library come from
``../shared/vendor/azure-functions-python`` (see its README). The mock host talks gRPC to the
worker in this process, exactly as the Functions host does in Azure; nothing of the worker or
of ``azure.functions`` is stubbed.

Who runs this
    ``__tests__/project/real-worker.test.ts`` (part of ``npm test``) synthesizes an app with the repo's
    library (sample churn model and script; HTTP, Blob and Service Bus triggers), takes the
    staged build context from the synth output and runs::

        python3 scoring-image/tests/worker_harness.py --context <dir> --entry-script score.py

    which runs every ``worker_test_*.py`` beside this file (or in ``--start-dir``, e.g. the
    worker test of a test-only trigger in ``__tests__/fixtures``) in this process. Separate from
    ``scripts/python-tests.js`` on purpose: the worker's own harness is a package named
    ``tests`` (``tests.utils.testutils``), which clashes with ours, and the staged copies of
    ``aml_host``/``adapters`` must be the ones imported, not ``scoring-image/``'s.

Layout (mirrors the Dockerfile, in a temporary folder per test class)
    ``<tmp>/wwwroot``      <- ``<context>/app`` (host.json, aml_host, adapters, one folder per
                              function; ``scriptFile`` added to each function.json because the
                              mock host, unlike the real one, does not default it)
    ``<tmp>/azureml-app``  <- ``<context>/model`` at ``azureml-models/``, then ``<context>/source``
    env ``AML_APP_ROOT``, ``AZUREML_MODEL_DIR``, ``AZUREML_ENTRY_SCRIPT`` as the image sets them.

Writing a test (e.g. ``worker_test_servicebus.py``)::

    from worker_harness import WorkerTestCase, http_binding, blob_binding, blob_metadata

    class QueueTest(WorkerTestCase):
        SETTINGS = {"AML_INIT_RETRY_FIRST_SECONDS": "0.2"}   # app settings for this class

        def test_one(self):
            fn = self.function_with_kind("servicebus")           # folder name from aml.json
            self.worker.load(fn)
            r = self.worker.invoke(fn, [...ParameterBinding...], metadata={...})
            self.assertTrue(r.ok, r.error)                        # r.http, r.outputs, r.logs

    Each class gets a fresh staged copy, a fresh worker and a fresh process-wide entry script
    (``init()`` runs again). ``self.app`` is the :class:`StagedApp` (``model_dir``,
    ``wwwroot``, ``function_names()``). ``self.worker.all_logs`` holds every log message the
    worker sent to the host so far. Modules the image has but this machine cannot import
    (``azure.identity``, ``azure.servicebus``) are the only stand-ins allowed: inject them in
    ``sys.modules`` in the test class before loading a function that needs them.

Service Bus metadata the worker wants is in the vendor README (``UserProperties`` JSON,
``DeliveryCount`` as JSON; for cardinality many ``collection_bytes`` data and
``UserPropertiesArray`` etc.).
"""

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import threading
import unittest
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
VENDOR = os.environ.get("AML_FUNCTIONS_WORKER_VENDOR",
                        os.path.join(os.path.dirname(REPO_ROOT), "shared", "vendor", "azure-functions-python"))
WORKER_PATHS = [os.path.join(VENDOR, "worker"), os.path.join(VENDOR, "library")]
for _p in reversed(WORKER_PATHS):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from azure_functions_worker import protos  # noqa: E402
from tests.utils import testutils  # noqa: E402  (the worker's harness, not ours)

HOST_VERSION = "4.34.0"
CONTEXT_ENV = "AML_STAGED_CONTEXT"
ENTRY_SCRIPT_ENV = "AML_STAGED_ENTRY_SCRIPT"


def unpack_small_files(pack: str, dest: str) -> None:
    """What the Dockerfile's ``ADD model-small-files.tar <dest>`` does: unpack the tar into ``dest``.

    Python's own tar reader, not ours: a pack it cannot read, or one with anything but folders
    and regular files below ``dest``, fails the test class.
    """
    with tarfile.open(pack, "r:") as tar:
        members = tar.getmembers()
        if not members or members[0].name != "." or not members[0].isdir():
            raise RuntimeError(f"{pack} does not start with its './' folder entry")
        for m in members:
            if not (m.isdir() or m.isfile()) or m.name.startswith("/") or ".." in m.name.split("/"):
                raise RuntimeError(f"{pack}: unexpected entry {m.name!r} ({m.type!r})")
        tar.extractall(dest)


class StagedApp:
    """A staged build context laid out as the image lays it out, in a temporary folder."""

    def __init__(self, context_dir: str, entry_script: str):
        self.context_dir = os.path.abspath(context_dir)
        for part in ("app/host.json", "source", "model", "model-small-files.tar"):
            if not os.path.exists(os.path.join(self.context_dir, part)):
                raise RuntimeError(f"{self.context_dir} is not a staged build context (no {part})")
        self.root = tempfile.mkdtemp(prefix="aml-real-worker-")
        self.wwwroot = os.path.join(self.root, "wwwroot")
        self.app_root = os.path.join(self.root, "azureml-app")
        self.model_dir = os.path.join(self.app_root, "azureml-models")
        self.entry_script = entry_script
        shutil.copytree(os.path.join(self.context_dir, "app"), self.wwwroot)
        # Dockerfile order: COPY model/ .../azureml-models/, ADD model-small-files.tar (unpacked)
        # into the same folder, then COPY source/ /var/azureml-app/.
        shutil.copytree(os.path.join(self.context_dir, "model"), self.model_dir)
        unpack_small_files(os.path.join(self.context_dir, "model-small-files.tar"), self.model_dir)
        shutil.copytree(os.path.join(self.context_dir, "source"), self.app_root, dirs_exist_ok=True)
        for name in self.function_names():
            path = os.path.join(self.wwwroot, name, "function.json")
            with open(path, encoding="utf-8") as f:
                desc = json.load(f)
            desc.setdefault("scriptFile", "__init__.py")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(desc, f)

    def function_names(self) -> List[str]:
        return sorted(d for d in os.listdir(self.wwwroot)
                      if os.path.isfile(os.path.join(self.wwwroot, d, "function.json")))

    def settings_of(self, name: str) -> Dict:
        with open(os.path.join(self.wwwroot, name, "aml.json"), encoding="utf-8") as f:
            return json.load(f)

    def environ(self) -> Dict[str, str]:
        return {"AML_APP_ROOT": self.app_root, "AZUREML_MODEL_DIR": self.model_dir,
                "AZUREML_ENTRY_SCRIPT": self.entry_script, "FUNCTIONS_WORKER_RUNTIME": "python"}

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Invocation:
    """What the worker answered to one invocation."""

    ok: bool
    error: str
    http: Optional[protos.RpcHttp]
    outputs: Dict[str, protos.TypedData]
    logs: List[str] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.http.status_code) if self.http is not None else 0

    @property
    def body(self) -> bytes:
        return self.http.body.bytes if self.http is not None else b""

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class RealWorker:
    """The real worker behind the mock host, driven synchronously from the test thread (its
    asyncio loop runs on a thread of its own, so a test may act while an invocation waits)."""

    def __init__(self, wwwroot: str):
        self.wwwroot = wwwroot
        self.all_logs: List[str] = []
        self._loaded: Dict[str, bool] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mock-host-loop", daemon=True)
        self._controller = None
        self._host = None

    def _call(self, coro, timeout: float):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> "RealWorker":
        self._thread.start()
        self._controller = testutils.start_mockhost(script_root=self.wwwroot)
        self._host = self._call(self._controller.__aenter__(), 60)
        r = self._call(self._host.init_worker(HOST_VERSION), 60)
        if r.response.result.status != protos.StatusResult.Success:
            raise RuntimeError(f"worker init failed: {r.response.result.exception.message}")
        return self

    def stop(self) -> None:
        if self._controller is not None:
            try:
                self._call(self._controller.__aexit__(None, None, None), 30)
            finally:
                self._controller = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def load(self, name: str) -> None:
        if self._loaded.get(name):
            return
        _, r = self._call(self._host.load_function(name), 60)
        self.all_logs.extend(log.message for log in r.logs)
        if r.response.result.status != protos.StatusResult.Success:
            raise AssertionError(f"loading function {name} failed: {r.response.result.exception.message}")
        self._loaded[name] = True

    def invoke(self, name: str, inputs: List[protos.ParameterBinding],
               metadata: Optional[Mapping[str, protos.TypedData]] = None, timeout: float = 120) -> Invocation:
        self.load(name)
        _, r = self._call(self._host.invoke_function(name, inputs, metadata=dict(metadata or {})), timeout)
        logs = [log.message for log in r.logs]
        self.all_logs.extend(logs)
        resp = r.response
        ok = resp.result.status == protos.StatusResult.Success
        http = resp.return_value.http if resp.return_value.WhichOneof("data") == "http" else None
        outputs = {b.name: b.data for b in resp.output_data}
        return Invocation(ok=ok, error=resp.result.exception.message, http=http, outputs=outputs, logs=logs)


def http_binding(method: str, url: str, body: bytes = b"", headers: Optional[Mapping[str, str]] = None,
                 query: Optional[Mapping[str, str]] = None, name: str = "req") -> protos.ParameterBinding:
    """An HTTP trigger input as the host sends it."""
    return protos.ParameterBinding(name=name, data=protos.TypedData(http=protos.RpcHttp(
        method=method, url=url, headers=dict(headers or {}), query=dict(query or {}),
        body=protos.TypedData(bytes=body))))


def blob_binding(data: bytes, name: str = "inputblob") -> protos.ParameterBinding:
    return protos.ParameterBinding(name=name, data=protos.TypedData(bytes=data))


def blob_metadata(blob_path: str, length: int, account: str = "acct") -> Dict[str, protos.TypedData]:
    """Trigger metadata of a blob ``container/name``."""
    return {
        "BlobTrigger": protos.TypedData(string=blob_path),
        "Uri": protos.TypedData(string=f"https://{account}.blob.core.windows.net/{blob_path}"),
        "Properties": protos.TypedData(json=json.dumps({"ContentLength": length})),
    }


def staged_context_from_env() -> (str, str):
    context = os.environ.get(CONTEXT_ENV)
    entry = os.environ.get(ENTRY_SCRIPT_ENV)
    if not context or not entry:
        raise RuntimeError(f"{CONTEXT_ENV} and {ENTRY_SCRIPT_ENV} must name a staged build context and its entry "
                           f"script; run through worker_harness.py --context ... --entry-script ...")
    return context, entry


class WorkerTestCase(unittest.TestCase):
    """Base class: a fresh staged copy, process-wide entry script and real worker per class."""

    SETTINGS: Dict[str, str] = {}

    app: StagedApp
    worker: RealWorker

    @classmethod
    def setUpClass(cls):
        context, entry = staged_context_from_env()
        cls.app = StagedApp(context, entry)
        cls._saved_env = {}
        for key, value in {**cls.app.environ(), **cls.SETTINGS}.items():
            cls._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        reset_entry_script()
        cls.worker = RealWorker(cls.app.wwwroot).start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.worker.stop()
        finally:
            reset_entry_script()
            forget_app(cls.app.wwwroot)
            for key, value in cls._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            cls.app.cleanup()

    def function_with_kind(self, kind: str) -> str:
        names = [n for n in self.app.function_names() if self.app.settings_of(n).get("kind") == kind]
        if not names:
            self.fail(f"the synthesized app has no {kind} function (functions: {self.app.function_names()})")
        return names[0]

    def entry_script(self):
        """The worker's process-wide EntryScript (the staged ``aml_host``'s)."""
        return sys.modules["aml_host.script"].get_entry_script()


def reset_entry_script() -> None:
    """Forget the process-wide entry script of the staged aml_host (stops its retries)."""
    mod = sys.modules.get("aml_host.script")
    if mod is not None and getattr(mod, "_default_script", None) is not None:
        mod._default_script.close()
        mod._default_script = None


def forget_app(wwwroot: str) -> None:
    """Drop what the worker imported from ``wwwroot`` (function modules, aml_host, adapters) and
    the folder from the import paths, so the next class imports its own staged copy."""
    from azure_functions_worker import loader

    for name in [n for n in sys.modules if n.startswith(("__app__.", "aml_host", "adapters"))]:
        if name.split(".")[0] in ("__app__", "aml_host", "adapters"):
            del sys.modules[name]
    loader._submodule_dirs[:] = [d for d in loader._submodule_dirs if not d.startswith(wwwroot)]
    sys.path[:] = [p for p in sys.path if not p.startswith(wwwroot)]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--context", required=True, help="staged build context (folder with app/, source/, model/)")
    parser.add_argument("--entry-script", required=True, help="AZUREML_ENTRY_SCRIPT, relative to source/")
    parser.add_argument("--pattern", default="worker_test_*.py")
    parser.add_argument("--start-dir", default=HERE, help="folder of the worker tests (default: beside this file)")
    args = parser.parse_args(argv)
    os.environ[CONTEXT_ENV] = os.path.abspath(args.context)
    os.environ[ENTRY_SCRIPT_ENV] = args.entry_script
    logging.basicConfig(level=logging.WARNING)
    start = os.path.abspath(args.start_dir)
    suite = unittest.defaultTestLoader.discover(start, pattern=args.pattern, top_level_dir=start)
    if suite.countTestCases() == 0:
        print(f"no tests matching {args.pattern} in {start}", file=sys.stderr)
        return 1
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() and not result.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
