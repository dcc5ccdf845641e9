"""A registered model fetched at start, then loaded by the real entry script's init() and
scored, inside the real Azure Functions Python worker (vendored, driven by its mock host).

The worker runs in a child process (it changes process-wide state); Azurite and the Azure
doubles run in this one. Needs scikit-learn, grpcio, protobuf (Debian packages, see .ci/run).
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

from .azurite_server import require
from .helpers import REPO_ROOT, SCORING_IMAGE
from .model_fetch_fixtures import FetchTestCase, Services, workspace_source

VENDOR = os.path.abspath(os.path.join(REPO_ROOT, "..", "shared", "vendor", "azure-functions-python"))
CHURN = os.path.join(REPO_ROOT, "examples", "churn")

WORKER_CHILD = textwrap.dedent("""
    import asyncio, json, os, sys
    from tests.utils import testutils
    from azure_functions_worker import protos

    async def main(app_dir, body):
        async with testutils.start_mockhost(script_root=app_dir) as host:
            await host.init_worker("4.34.0")
            _, r = await host.load_function("score")
            assert r.response.result.status == protos.StatusResult.Success, r.response.result.exception.message
            _, r = await host.invoke_function("score", [protos.ParameterBinding(
                name="req", data=protos.TypedData(http=protos.RpcHttp(
                    method="POST", url="http://localhost/api/score", headers={"content-type": "application/json"},
                    body=protos.TypedData(bytes=body))))])
            if r.response.result.status != protos.StatusResult.Success:
                print(json.dumps({"error": r.response.result.exception.message}))
                return
            http = r.response.return_value.http
            print(json.dumps({"status": http.status_code, "body": http.body.bytes.decode(),
                              "model_dir": os.environ.get("AZUREML_MODEL_DIR")}))

    asyncio.run(main(sys.argv[1], sys.argv[2].encode()))
""")


def setUpModule():
    Services.start()


def tearDownModule():
    Services.stop()


class RealWorkerTest(FetchTestCase):
    def setUp(self):
        super().setUp()
        require(os.path.isdir(os.path.join(VENDOR, "worker", "azure_functions_worker")), f"the vendored worker is missing at {VENDOR}")
        probe = subprocess.run([sys.executable, "-c", "import grpc, google.protobuf, sklearn, joblib"], capture_output=True)
        require(probe.returncode == 0, "python3-grpcio, python3-protobuf and python3-sklearn are needed: " + probe.stderr.decode()[-300:])

    def make_app(self) -> str:
        """The function app folder as the image lays it out: host code + one HTTP function."""
        app = os.path.join(self.tmp, "wwwroot")
        for name in ("aml_host", "adapters"):
            shutil.copytree(os.path.join(SCORING_IMAGE, name), os.path.join(app, name),
                            ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(os.path.join(SCORING_IMAGE, "host.json"), app)
        fn = os.path.join(app, "score")
        os.makedirs(fn)
        with open(os.path.join(fn, "function.json"), "w") as f:
            json.dump({"scriptFile": "__init__.py", "bindings": [
                {"authLevel": "function", "type": "httpTrigger", "direction": "in", "name": "req", "methods": ["post"]},
                {"type": "http", "direction": "out", "name": "$return"}]}, f)
        with open(os.path.join(fn, "__init__.py"), "w") as f:
            f.write("from adapters.http_adapter import main  # noqa: F401\n")
        with open(os.path.join(fn, "aml.json"), "w") as f:
            json.dump({"kind": "http"}, f)
        return app

    def test_init_loads_the_fetched_sklearn_model_and_scores(self):
        self.azurite.create_container("azureml-blobstore-0a1b")
        with open(os.path.join(CHURN, "models", "churn", "model.joblib"), "rb") as f:
            self.azurite.put_blob("azureml-blobstore-0a1b", "LocalUpload/9f8e/churn/model.joblib", f.read())
        self.register_workspace_model("churn", "3", "azureml-blobstore-0a1b", "LocalUpload/9f8e/churn")
        app = self.make_app()
        env = {
            **os.environ,
            **self.env(workspace_source("churn", "3")),
            "PYTHONPATH": os.pathsep.join([os.path.join(VENDOR, "worker"), os.path.join(VENDOR, "library"), app]),
            "AML_APP_ROOT": os.path.join(CHURN, "scoring"),
            "AZUREML_ENTRY_SCRIPT": "score.py",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with open(os.path.join(CHURN, "sample-request.json"), "rb") as f:
            body = f.read()
        proc = subprocess.run([sys.executable, "-c", WORKER_CHILD, app, body.decode()], env=env, cwd=self.tmp,
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-4000:])
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertNotIn("error", result, proc.stderr[-4000:])
        self.assertEqual(str(result["status"]), "200", result)
        predictions = json.loads(result["body"])
        self.assertEqual(len(predictions), len(json.loads(body)["data"]))
        self.assertTrue(all(p in (0, 1) for p in predictions), predictions)
        # The online-endpoint layout: $AZUREML_MODEL_DIR is <root>/<name>/<version>; the script
        # reads $AZUREML_MODEL_DIR/churn/model.joblib unchanged.
        self.assertEqual(result["model_dir"], os.path.join(self.root, "churn", "3"))
        self.assertTrue(os.path.isfile(os.path.join(self.root, "churn", "3", "churn", "model.joblib")))
        self.assertEqual(len(self.arm.calls("GET", "/models/churn/versions/3")), 1)
