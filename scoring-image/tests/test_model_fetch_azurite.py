"""The model downloader against Azurite (real Blob REST API, bearer tokens, HTTPS) with doubles
for the managed identity endpoint and Azure Resource Manager."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time

from aml_host.model_fetch import ModelAccessDenied, ModelFetchError, ModelNotFound, ensure_model
from aml_host.model_fetch.blob_store import BlobAuth, BlobLocation, list_blobs
from aml_host.model_fetch.http_client import Deadline, HttpClient, RetryPolicy

from .azure_doubles import DroppingProxy, SasBlobStore, error, ok
from .azurite_server import jwt
from .helpers import SCORING_IMAGE
from .model_fetch_fixtures import REG_ID, WS_ID, FetchTestCase, Services, blob_source, files_under, workspace_source


def setUpModule():
    Services.start()


def tearDownModule():
    Services.stop()


class WorkspaceModelTest(FetchTestCase):
    def test_folder_model_with_nested_folders_lands_in_name_version(self):
        self.azurite.create_container("ws-nested")
        self.azurite.put_blob("ws-nested", "LocalUpload/abc/churn/model.joblib", b"weights")
        self.azurite.put_blob("ws-nested", "LocalUpload/abc/churn/sub/deep/vocab.txt", b"a\nb\n")
        self.azurite.put_blob("ws-nested", "LocalUpload/abc/churn2/not-this.bin", b"x")  # a sibling with the same prefix
        self.register_workspace_model("churn", "3", "ws-nested", "LocalUpload/abc/churn")
        env = self.env(workspace_source("churn", "3"))

        with self.assertLogs("aml_host.model_fetch", level="INFO") as logs:
            model_dir = ensure_model(env)

        self.assertEqual(model_dir, os.path.join(self.root, "churn", "3"))
        self.assertEqual(env["AZUREML_MODEL_DIR"], model_dir)
        self.assertEqual(files_under(model_dir), {"churn/model.joblib": b"weights", "churn/sub/deep/vocab.txt": b"a\nb\n"})
        self.assertEqual([n for n in os.listdir(self.root) if n.startswith(".partial")], [])
        # Tokens: ARM and storage audiences, for the configured user-assigned identity.
        asked = sorted(r["query"]["resource"][0] for r in Services.identity.requests)
        self.assertEqual(asked, [self.arm.url + "/", "https://storage.azure.com/"])
        self.assertTrue(all(r["query"]["client_id"] == [env["AML_MODEL_CLIENT_ID"]] for r in Services.identity.requests))
        self.assertIn("downloaded 2 files", "\n".join(logs.output))
        self.assertNotIn("eyJ", "\n".join(logs.output))  # no token in the log

    def test_file_model_and_no_second_download(self):
        self.azurite.create_container("ws-file")
        self.azurite.put_blob("ws-file", "models/model.pkl", b"pickle")
        self.register_workspace_model("clf", "1", "ws-file", "models/model.pkl")
        env = self.env(workspace_source("clf", "1"))
        self.assertEqual(files_under(ensure_model(dict(env))), {"model.pkl": b"pickle"})
        gets = len(self.arm.calls("GET", "/models/clf/versions/1"))

        with self.assertLogs("aml_host.model_fetch", level="INFO") as logs:
            ensure_model(dict(env))
        self.assertEqual(len(self.arm.calls("GET", "/models/clf/versions/1")), gets)
        self.assertIn("not downloaded again", "\n".join(logs.output))

    def test_a_new_version_replaces_the_old_one(self):
        self.azurite.create_container("ws-versions")
        self.azurite.put_blob("ws-versions", "m/v1/model.bin", b"one")
        self.azurite.put_blob("ws-versions", "m/v2/model.bin", b"two")
        self.register_workspace_model("m", "1", "ws-versions", "m/v1")
        self.register_workspace_model("m", "2", "ws-versions", "m/v2")
        ensure_model(self.env(workspace_source("m", "1")))
        model_dir = ensure_model(self.env(workspace_source("m", "2")))
        self.assertEqual(files_under(model_dir), {"v2/model.bin": b"two"})
        self.assertFalse(os.path.exists(os.path.join(self.root, "m", "1")))

    def test_403_from_arm_names_the_model_and_the_missing_role(self):
        self.arm.on("GET", f"{WS_ID}/models/churn/versions/3", error(403, "AuthorizationFailed"))
        with self.assertRaises(ModelAccessDenied) as ctx:
            ensure_model(self.env(workspace_source("churn", "3")))
        msg = str(ctx.exception)
        self.assertIn("model churn:3 of workspace mlw", msg)
        self.assertIn("'Reader' role on the workspace " + WS_ID, msg)
        self.assertIn("HTTP 403 AuthorizationFailed", msg)
        self.assertEqual(len(self.arm.calls("GET", "/models/churn/versions/3")), 1)  # 403 is not retried

    def test_storage_refusal_names_storage_blob_data_reader(self):
        self.azurite.create_container("ws-denied")
        self.azurite.put_blob("ws-denied", "m/model.bin", b"x")
        self.register_workspace_model("m", "1", "ws-denied", "m")
        # A token for the wrong audience is what Azurite refuses (the role check of Azure).
        env = self.env(workspace_source("m", "1"), AML_MODEL_STORAGE_AUDIENCE="https://wrong.example.com/")
        with self.assertRaises(ModelAccessDenied) as ctx:
            ensure_model(env)
        msg = str(ctx.exception)
        self.assertIn("model m:1 of workspace mlw", msg)
        self.assertIn("'Storage Blob Data Reader' on storage account 'devstoreaccount1' container 'ws-denied'", msg)

    def test_429_and_500_are_retried_and_retry_after_is_honoured(self):
        self.azurite.create_container("ws-retry")
        self.azurite.put_blob("ws-retry", "m/model.bin", b"x")
        self.register_workspace_model("m", "1", "ws-retry", "m")
        answer = self.arm.routes[("GET", f"{WS_ID}/models/m/versions/1".lower())][0]
        self.arm.on("GET", f"{WS_ID}/models/m/versions/1",
                    error(429, "TooManyRequests", {"Retry-After": "0.4"}), error(500, "InternalServerError"), answer)
        ensure_model(self.env(workspace_source("m", "1")))
        calls = self.arm.calls("GET", "/models/m/versions/1")
        self.assertEqual(len(calls), 3)
        self.assertGreaterEqual(calls[1]["time"] - calls[0]["time"], 0.4)

    def test_persistent_500_gives_up_after_the_configured_attempts(self):
        self.arm.on("GET", f"{WS_ID}/models/m/versions/1", error(500, "InternalServerError"))
        with self.assertRaises(ModelFetchError) as ctx:
            ensure_model(self.env(workspace_source("m", "1"), AML_MODEL_MAX_ATTEMPTS="3"))
        self.assertIn("HTTP 500", str(ctx.exception))
        self.assertEqual(len(self.arm.calls("GET", "/models/m/versions/1")), 3)

    def test_overall_timeout_stops_retrying(self):
        self.arm.on("GET", f"{WS_ID}/models/m/versions/1", error(503, "ServerBusy", {"Retry-After": "30"}))
        started = time.monotonic()
        with self.assertRaises(ModelFetchError) as ctx:
            ensure_model(self.env(workspace_source("m", "1"), AML_MODEL_TIMEOUT_SECONDS="2"))
        self.assertIn("AML_MODEL_TIMEOUT_SECONDS", str(ctx.exception))
        self.assertLess(time.monotonic() - started, 10)

    def test_unknown_model_version_is_not_found(self):
        with self.assertRaises(ModelNotFound) as ctx:
            ensure_model(self.env(workspace_source("ghost", "9")))
        self.assertIn("model ghost:9", str(ctx.exception))

    def test_a_dropped_connection_mid_file_resumes(self):
        self.azurite.create_container("ws-drop")
        data = os.urandom(6 * 1024 * 1024)
        self.azurite.put_blob("ws-drop", "m/big.bin", data)
        self.register_workspace_model("m", "1", "ws-drop", "m")
        proxy = DroppingProxy(self.azurite.port, drop_after=2 * 1024 * 1024)
        self.addCleanup(proxy.stop)
        env = self.env(workspace_source("m", "1"), AML_MODEL_BLOB_ENDPOINT=f"https://127.0.0.1:{proxy.port}/{{account}}")
        with self.assertLogs("aml_host.model_fetch", level="WARNING") as logs:
            model_dir = ensure_model(env)
        self.assertEqual(proxy.dropped, 1)
        with open(os.path.join(model_dir, "m", "big.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(data).hexdigest())
        self.assertTrue(any("resuming" in line for line in logs.output), logs.output)


class BlobModelTest(FetchTestCase):
    def blob_in(self, container, data):
        """A new container holding ``m.bin``; an HTTP client and its location, for download_part."""
        self.azurite.create_container(container)
        self.azurite.put_blob(container, "m.bin", data)
        client = HttpClient(30, RetryPolicy())
        self.addCleanup(client.close_all)
        loc = BlobLocation(self.azurite.endpoint_template.format(account="devstoreaccount1") + f"/{container}", "m.bin",
                           BlobAuth(bearer=lambda d: jwt("https://storage.azure.com")), "azurite")
        return client, loc

    def test_a_blob_that_changed_after_listing_is_refused_not_truncated(self):
        from aml_host.model_fetch.blob_store import BlobFile, Part, download_part, prepare_file
        client, loc = self.blob_in("blob-changed", b"0123456789")
        item = BlobFile("m.bin", 4, "m.bin")  # what an older listing said
        dest = os.path.join(self.tmp, "m.bin")
        prepare_file(dest, item.size)
        for part in (Part(item, 0, 4, True), Part(item, 0, 2, False)):
            with self.assertRaises(ModelFetchError) as ctx:
                download_part(client, loc, part, dest, Deadline(30), lambda n: None)
            self.assertIn("changed while downloading: it has 10 bytes, the listing said 4", str(ctx.exception))

    def test_a_blob_rewritten_with_the_same_size_after_listing_is_refused_not_mixed(self):
        from aml_host.model_fetch.blob_store import Part, download_part, list_blobs, plan_files, prepare_file
        from aml_host.model_fetch.errors import HttpError
        client, loc = self.blob_in("blob-rewritten", b"generation1")
        [item] = plan_files(loc, list_blobs(client, loc, "m.bin", Deadline(30)))
        self.assertTrue(item.etag)
        dest = os.path.join(self.tmp, "m.bin")
        prepare_file(dest, item.size)
        # The first range as listed, then the blob is rewritten (same size) before the second.
        download_part(client, loc, Part(item, 0, 5, False), dest, Deadline(30), lambda n: None)
        self.azurite.put_blob("blob-rewritten", "m.bin", b"GENERATION2")
        with self.assertRaises(HttpError) as ctx:
            download_part(client, loc, Part(item, 5, 6, False), dest, Deadline(30), lambda n: None)
        self.assertEqual(ctx.exception.status, 412)

    def test_a_single_blob_keeps_its_file_name(self):
        self.azurite.create_container("blob-file")
        self.azurite.put_blob("blob-file", "models/churn.joblib", b"j")
        env = self.env(blob_source("blob-file", "models/churn.joblib"))
        self.assertEqual(ensure_model(env), self.root)
        self.assertEqual(files_under(self.root).get("churn.joblib"), b"j")

    def test_a_prefix_becomes_a_folder_named_after_its_last_segment(self):
        self.azurite.create_container("blob-prefix")
        for name in ("models/bundle/a.bin", "models/bundle/x/y/b.bin", "models/bundlex/no.bin"):
            self.azurite.put_blob("blob-prefix", name, name.encode())
        ensure_model(self.env(blob_source("blob-prefix", "models/bundle/")))
        got = {k: v for k, v in files_under(self.root).items() if not k.startswith(".")}
        self.assertEqual(got, {"bundle/a.bin": b"models/bundle/a.bin", "bundle/x/y/b.bin": b"models/bundle/x/y/b.bin"})

    def test_listing_pages_are_followed(self):
        self.azurite.create_container("blob-pages")
        for i in range(12):
            self.azurite.put_blob("blob-pages", f"many/f{i:02d}", bytes([i]))
        client = HttpClient(30, RetryPolicy())
        self.addCleanup(client.close_all)
        auth = BlobAuth(bearer=lambda d: jwt("https://storage.azure.com"))
        loc = BlobLocation(self.azurite.endpoint_template.format(account="devstoreaccount1") + "/blob-pages", "many", auth, "azurite")
        # Azurite honours maxresults: a page size of 5 gives three pages joined by NextMarker.
        names = [n for n, _, _ in list_blobs(client, loc, "many", Deadline(60), page_size=5)]
        self.assertEqual(names, [f"many/f{i:02d}" for i in range(12)])

    def test_an_empty_prefix_is_a_clear_error_and_leaves_nothing_behind(self):
        self.azurite.create_container("blob-empty")
        with self.assertRaises(ModelNotFound) as ctx:
            ensure_model(self.env(blob_source("blob-empty", "models/none")))
        self.assertIn("no blob named 'models/none' and no blobs under 'models/none/'", str(ctx.exception))
        self.assertEqual([n for n in os.listdir(self.root) if not n.endswith(".lock")], [])


class RegistryModelTest(FetchTestCase):
    SIG = "c2VjcmV0LXNhcy1zaWduYXR1cmU"

    def test_registry_model_is_read_with_the_sas_the_registry_hands_out_and_the_sas_is_never_logged(self):
        store = SasBlobStore("regacct", "c0ffee", {"models/churn/model.joblib": b"reg", "models/churn/a/b.txt": b"ab"}, self.SIG)
        self.addCleanup(store.stop)
        blob_uri = f"{store.url}/regacct/c0ffee/models/churn"
        self.arm.on("GET", f"{REG_ID}/models/churn/versions/7", ok({"properties": {"modelUri": blob_uri}}))
        self.arm.on("POST", f"{REG_ID}/datareferences/churn/versions/7", ok({"blobReferenceForConsumption": {
            "blobUri": blob_uri, "storageAccountArmId": "/subscriptions/x/.../regacct",
            "credential": {"credentialType": "SAS", "sasUri": f"{blob_uri}?sv=2021-08-06&sr=c&sp=rl&sig={self.SIG}"}}}))
        source = json.dumps({"kind": "amlRegistry", "registryId": REG_ID, "name": "churn", "version": "7"})
        with self.assertLogs("aml_host.model_fetch", level="DEBUG") as logs:
            model_dir = ensure_model(self.env(source))
        self.assertEqual(model_dir, os.path.join(self.root, "churn", "7"))
        self.assertEqual(files_under(model_dir), {"churn/model.joblib": b"reg", "churn/a/b.txt": b"ab"})
        post = self.arm.calls("POST", "/datareferences/churn/versions/7")[0]
        self.assertEqual(json.loads(post["body"]), {"assetId": "azureml://registries/shared/models/churn/versions/7", "blobUri": blob_uri})
        self.assertTrue(all(r["auth"] is None for r in store.requests))  # the identity's token never goes to the SAS store
        self.assertNotIn(self.SIG, "\n".join(logs.output))
        self.assertNotIn("sig=", "\n".join(logs.output))

    def test_registry_403_names_the_registry_reader_role(self):
        self.arm.on("GET", f"{REG_ID}/models/churn/versions/7", error(403, "AuthorizationFailed"))
        source = json.dumps({"kind": "amlRegistry", "registryId": REG_ID, "name": "churn", "version": "7"})
        with self.assertRaises(ModelAccessDenied) as ctx:
            ensure_model(self.env(source))
        self.assertIn("model churn:7 of registry shared", str(ctx.exception))
        self.assertIn("'AML registry model reader' role on the registry " + REG_ID, str(ctx.exception))


CHILD = textwrap.dedent("""
    import json, logging, os, resource, sys
    sys.path.insert(0, sys.argv[1])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    from aml_host.model_fetch import ensure_model
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model_dir = ensure_model()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"model_dir": model_dir, "rss_growth_kb": after - before}))
""")


class ProcessTest(FetchTestCase):
    def run_children(self, env, count):
        full = {**os.environ, **env, "PYTHONDONTWRITEBYTECODE": "1"}
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, SCORING_IMAGE], env=full, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(count)]
        results = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            self.assertEqual(p.returncode, 0, err[-3000:])
            results.append((json.loads(out.strip().splitlines()[-1]), err))
        return results

    def test_a_200_mb_file_is_streamed_with_flat_memory(self):
        self.azurite.create_container("big")
        src = os.path.join(self.tmp, "big.bin")
        block = os.urandom(1024 * 1024)
        digest = hashlib.sha256()
        with open(src, "wb") as f:
            for i in range(200):
                chunk = bytes([i]) + block[1:]
                f.write(chunk)
                digest.update(chunk)
        self.azurite.put_blob_file("big", "models/big.bin", src)
        os.unlink(src)
        [(result, _)] = self.run_children(self.env(blob_source("big", "models/big.bin")), 1)
        path = os.path.join(self.root, "big.bin")
        self.assertEqual(os.path.getsize(path), 200 * 1024 * 1024)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        self.assertEqual(h.hexdigest(), digest.hexdigest())
        # 200 MB went through a 1 MiB buffer: peak RSS grows by a few MB, not by the file size.
        self.assertLess(result["rss_growth_kb"], 40 * 1024, result)

    def test_two_processes_starting_at_once_download_once(self):
        self.azurite.create_container("two")
        for i in range(20):
            self.azurite.put_blob("two", f"m/part{i}.bin", os.urandom(64 * 1024))
        self.register_workspace_model("m", "5", "two", "m")
        results = self.run_children(self.env(workspace_source("m", "5")), 2)
        self.assertEqual({r["model_dir"] for r, _ in results}, {os.path.join(self.root, "m", "5")})
        logs = "\n".join(err for _, err in results)
        self.assertEqual(logs.count("downloaded 20 files"), 1, logs)
        self.assertEqual(logs.count("not downloaded again"), 1, logs)
        self.assertEqual(len(self.arm.calls("GET", "/models/m/versions/5")), 1)
        self.assertEqual(len(os.listdir(os.path.join(self.root, "m", "5", "m"))), 20)
