"""Unit tests of the model downloader's parts (no emulator needed)."""

import os
import tempfile
import unittest
from email.utils import formatdate
from unittest import mock

from aml_host.model_fetch import ModelAccessDenied, ModelFetchError, ensure_model
from aml_host.model_fetch.blob_store import (BlobAuth, BlobFile, BlobLocation, Part, download_part, list_blobs, plan_files,
                                             prepare_file, split_blob_url, split_parts)
from aml_host.model_fetch.config import ModelSpec, check_storage_url, load_config
from aml_host.model_fetch.local_store import install
from aml_host.model_fetch.http_client import Deadline, HttpClient, RetryPolicy, parse_retry_after, read_bounded, redact
from aml_host.model_fetch.identity import ManagedIdentity
from aml_host.script import EntryScript, InitRetryPolicy, NotReadyError

from .azure_doubles import CLIENT_ID, IdentityEndpoint


class RetryPolicyTest(unittest.TestCase):
    def test_full_jitter_doubles_up_to_the_cap(self):
        seen = []
        policy = RetryPolicy(base=0.5, cap=4.0, rand=lambda lo, hi: seen.append((lo, hi)) or hi)
        self.assertEqual([policy.delay(a, None) for a in (1, 2, 3, 4, 5)], [0.5, 1.0, 2.0, 4.0, 4.0])
        self.assertTrue(all(lo == 0.0 for lo, _ in seen))

    def test_retry_after_wins_over_backoff(self):
        self.assertEqual(RetryPolicy(base=10).delay(1, 0.25), 0.25)

    def test_a_wait_past_the_deadline_gives_up_instead_of_sleeping(self):
        slept = []
        policy = RetryPolicy(sleep=slept.append)
        with self.assertRaises(ModelFetchError) as ctx:
            policy.wait(1, 120.0, Deadline(5), "reading x")
        self.assertIn("overall timeout of 5 s", str(ctx.exception))
        self.assertEqual(slept, [])

    def test_retry_after_forms(self):
        self.assertEqual(parse_retry_after({"Retry-After": "3"}), 3.0)
        self.assertEqual(parse_retry_after({"x-ms-retry-after-ms": "1500", "Retry-After": "9"}), 1.5)
        later = parse_retry_after({"Retry-After": formatdate(__import__("time").time() + 30, usegmt=True)})
        self.assertTrue(25 <= later <= 31, later)
        self.assertIsNone(parse_retry_after({}))
        self.assertIsNone(parse_retry_after({"Retry-After": "soon"}))


class ConfigTest(unittest.TestCase):
    def test_sources_parse_and_bad_ones_are_named(self):
        spec = ModelSpec.parse('{"kind": "amlWorkspace", "workspaceId": "/w", "name": "m", "version": "2"}')
        self.assertTrue(spec.registered)
        self.assertEqual(spec.describe(), "model m:2 of workspace w")
        with self.assertRaisesRegex(ModelFetchError, "not valid JSON"):
            ModelSpec.parse("{")
        with self.assertRaisesRegex(ModelFetchError, "needs a non-empty string 'version'"):
            ModelSpec.parse('{"kind": "amlRegistry", "registryId": "/r", "name": "m"}')
        with self.assertRaisesRegex(ModelFetchError, "unknown kind 'ftp'"):
            ModelSpec.parse('{"kind": "ftp"}')

    def test_tokens_only_travel_over_https_or_loopback(self):
        base = {"AML_MODEL_SOURCE": '{"kind": "blob", "storageAccountId": "/s", "container": "c", "path": "p"}'}
        with self.assertRaisesRegex(ModelFetchError, "only https endpoints"):
            load_config({**base, "AML_MODEL_ARM_ENDPOINT": "http://management.example.com"})
        self.assertEqual(load_config({**base, "AML_MODEL_ARM_ENDPOINT": "http://127.0.0.1:9/"}).arm_endpoint, "http://127.0.0.1:9")
        cfg = load_config(base)
        self.assertEqual((cfg.arm_endpoint, cfg.arm_audience), ("https://management.azure.com", "https://management.azure.com/"))
        with self.assertRaisesRegex(ModelFetchError, "AML_MODEL_CONCURRENCY='0' must be at least 1"):
            load_config({**base, "AML_MODEL_CONCURRENCY": "0"})


class BlobPlanTest(unittest.TestCase):
    loc = BlobLocation("https://a.blob.core.windows.net/c", "models/churn", BlobAuth(), "account a container c")

    def test_folder_beats_file_and_siblings_are_ignored(self):
        files = plan_files(self.loc, [("models/churn/b", 2), ("models/churn/a/x", 1), ("models/churnx", 5)])
        self.assertEqual([(f.name, f.local) for f in files], [("models/churn/a/x", "churn/a/x"), ("models/churn/b", "churn/b")])

    def test_a_single_blob_keeps_its_name(self):
        [f] = plan_files(self.loc, [("models/churn", 3)])
        self.assertEqual((f.local, f.size), ("churn", 3))

    def test_blob_names_that_would_escape_the_model_folder_are_refused(self):
        with self.assertRaisesRegex(ModelFetchError, "cannot be stored as a local file"):
            plan_files(self.loc, [("models/churn/../../../etc/cron.d/x", 1)])
        with self.assertRaisesRegex(ModelFetchError, "cannot be stored"):
            plan_files(self.loc, [("models/churn//x", 1)])

    def test_a_model_path_with_a_dot_dot_segment_is_refused(self):
        # The path can come from a model version's modelUri: "models/.." would name the root's parent.
        for path in ("models/..", "models/../x", "./m", "a//b"):
            loc = BlobLocation("https://a.blob.core.windows.net/c", path, BlobAuth(), "account a container c")
            with self.assertRaisesRegex(ModelFetchError, "empty, '.' or '..' segment"):
                plan_files(loc, [("models/../evil.txt", 1)])

    def test_listed_sizes_that_are_not_byte_counts_are_refused(self):
        class Client:
            def request(self, *args, **kwargs):
                body = (b"<EnumerationResults><Blobs><Blob><Name>models/churn/a</Name><Properties>"
                        b"<Content-Length>4x</Content-Length></Properties></Blob></Blobs><NextMarker/></EnumerationResults>")
                return mock.Mock(body=body)
        with self.assertRaisesRegex(ModelFetchError, "gives 'models/churn/a' the size '4x', not a byte count"):
            list_blobs(Client(), self.loc, "models/churn", Deadline(60))

    def test_percent_encoded_names_in_a_listing_are_decoded(self):
        class Client:
            def request(self, *args, **kwargs):
                body = (b"<EnumerationResults><Blobs>"
                        b"<Blob><Name Encoded=\"true\">models/churn/a%0Bb</Name><Properties><Content-Length>1</Content-Length>"
                        b"<Etag>0x1</Etag></Properties></Blob>"
                        b"<Blob><Name>models/churn/plain%41</Name><Properties><Content-Length>2</Content-Length></Properties></Blob>"
                        b"</Blobs><NextMarker/></EnumerationResults>")
                return mock.Mock(body=body)
        self.assertEqual(list_blobs(Client(), self.loc, "models/churn", Deadline(60)),
                         [("models/churn/a\x0bb", 1, "0x1"), ("models/churn/plain%41", 2, None)])

    def test_big_blobs_are_split_into_ranges_that_cover_every_byte_once(self):
        small, big = BlobFile("s", 10, "s"), BlobFile("b", 100, "b")
        parts = split_parts([small, big], part_size=30, split_above=50)
        self.assertEqual([(p.item.name, p.start, p.length, p.whole) for p in parts],
                         [("s", 0, 10, True), ("b", 0, 30, False), ("b", 30, 30, False), ("b", 60, 30, False), ("b", 90, 10, False)])

    def test_blob_urls_public_and_path_style(self):
        self.assertEqual(split_blob_url("https://acct.blob.core.windows.net/c/models/a%20b?sv=1&sig=x"),
                         ("https://acct.blob.core.windows.net/c", "models/a b", "sv=1&sig=x"))
        self.assertEqual(split_blob_url("https://127.0.0.1:10000/devstoreaccount1/c/m"), ("https://127.0.0.1:10000/devstoreaccount1/c", "m", ""))
        self.assertEqual(redact("https://a/c/b?sig=secret"), "https://a/c/b")


class StorageUrlTest(unittest.TestCase):
    def test_urls_from_azure_must_be_https_storage_of_this_cloud(self):
        ok = "https://acct.blob.core.windows.net/c/m?sv=1&sig=SECRET"
        self.assertEqual(check_storage_url("registry SAS", ok, "core.windows.net"), ok)
        self.assertEqual(check_storage_url("x", "http://127.0.0.1:10000/devstoreaccount1/c", "core.windows.net"),
                         "http://127.0.0.1:10000/devstoreaccount1/c")
        for bad, says in (("https://evil.example.com/c/m?sig=SECRET", "not a storage endpoint of this cloud"),
                          ("https://acct.blob.core.windows.net.evil.com/c/m", "not a storage endpoint of this cloud"),
                          ("http://acct.blob.core.windows.net/c/m?sig=SECRET", "only https endpoints"),
                          ("http://127.0.0.2:9/c/m", "only https endpoints")):
            with self.assertRaisesRegex(ModelFetchError, says) as err:
                check_storage_url("registry SAS", bad, "core.windows.net")
            self.assertNotIn("SECRET", str(err.exception))
        # A sovereign cloud's suffix.
        self.assertTrue(check_storage_url("x", "https://a.blob.core.chinacloudapi.cn/c", "core.chinacloudapi.cn"))


class BoundedBodyTest(unittest.TestCase):
    class Endless:
        """A response body that never ends (or ends after ``limit`` bytes)."""

        def __init__(self, limit=None, on_read=None):
            self.sent, self.limit, self.on_read, self.closed = 0, limit, on_read, False

        def read(self, n=-1):
            if self.on_read:
                self.on_read()
            if self.limit is not None and self.sent >= self.limit:
                return b""
            self.sent += n
            return b"x" * n

        def close(self):
            self.closed = True

    def test_a_body_without_end_is_cut_off_at_the_limit(self):
        raw = self.Endless()
        with mock.patch("aml_host.model_fetch.http_client.MAX_BODY_BYTES", 4 << 20):
            with self.assertRaisesRegex(ModelFetchError, "larger than 4 MiB"):
                read_bounded(raw, Deadline(60), "listing")
        self.assertTrue(raw.closed)
        self.assertLessEqual(raw.sent, 5 << 20)

    def test_a_trickling_body_stops_at_the_overall_deadline(self):
        now = [0.0]
        deadline = Deadline(3, clock=lambda: now[0])

        def tick():
            now[0] += 1.0

        with self.assertRaisesRegex(ModelFetchError, "overall timeout of 3 s"):
            read_bounded(self.Endless(on_read=tick), deadline, "listing")
        self.assertEqual(read_bounded(self.Endless(limit=3 << 20), Deadline(60), "listing"), b"x" * (3 << 20))


class DownloadPartTest(unittest.TestCase):
    """download_part against a fake storage whose body is longer than listed or trickles."""

    class Body:
        def __init__(self, data, endless=False, on_read=None):
            self.data, self.endless, self.on_read, self.closed = data, endless, on_read, False

        def readinto(self, buf):
            if self.on_read:
                self.on_read()
            if not self.data:
                if not self.endless:
                    return 0
                self.data = b"y" * len(buf)
            n = min(len(buf), len(self.data))
            buf[:n] = self.data[:n]
            self.data = self.data[n:]
            return n

        def read(self, n=-1):
            out = bytearray(max(n, 1))
            got = self.readinto(out)
            return bytes(out[:got])

        def close(self):
            self.closed = True

    def client_for(self, body):
        client = mock.Mock()
        client.request.return_value = mock.Mock(status=200, headers={}, raw=body)
        client.policy = RetryPolicy(2, 0, 0, sleep=lambda s: None)
        return client

    def download(self, body, deadline):
        loc = BlobLocation("https://a.blob.core.windows.net/c", "m", BlobAuth(), "account a container c")
        item = BlobFile("m", 10, "m")
        with tempfile.TemporaryDirectory() as d:
            dest = os.path.join(d, "m")
            prepare_file(dest, 10)
            download_part(self.client_for(body), loc, Part(item, 0, 10, True), dest, deadline, lambda n: None)
            with open(dest, "rb") as f:
                return f.read()

    def test_a_body_as_long_as_listed_is_written(self):
        self.assertEqual(self.download(self.Body(b"0123456789"), Deadline(60)), b"0123456789")

    def test_a_body_longer_than_listed_is_refused_not_read_to_its_end(self):
        body = self.Body(b"0123456789", endless=True)
        with self.assertRaisesRegex(ModelFetchError, "'m' in account a container c is longer than the listing said \\(10 bytes\\)"):
            self.download(body, Deadline(60))
        self.assertTrue(body.closed)

    def test_a_trickling_body_stops_at_the_overall_deadline(self):
        now = [0.0]

        def tick():
            now[0] += 1.0

        chunks = [bytes([c]) for c in b"0123456789"]

        class Trickle(self.Body):
            def readinto(inner, buf):
                tick()
                if not chunks:
                    return 0
                buf[:1] = chunks.pop(0)
                return 1

        with self.assertRaisesRegex(ModelFetchError, "overall timeout of 3 s"):
            self.download(Trickle(b""), Deadline(3, clock=lambda: now[0]))


class InstallTest(unittest.TestCase):
    def test_a_link_planted_in_the_model_folder_is_replaced_never_followed(self):
        with tempfile.TemporaryDirectory() as d:
            root, outside = os.path.join(d, "models"), os.path.join(d, "outside")
            os.makedirs(os.path.join(outside, "1"))
            with open(os.path.join(outside, "1", "keep.txt"), "w") as f:
                f.write("not the model's")
            os.makedirs(root)
            os.symlink(outside, os.path.join(root, "churn"))  # <root>/<name> -> elsewhere
            os.symlink(outside, os.path.join(root, "single"))  # a target that is itself a link
            for target in ("churn/1", "single"):
                staged = os.path.join(root, ".partial-x")
                os.makedirs(os.path.join(staged, "m"))
                install(root, staged, target)
                self.assertTrue(os.path.isdir(os.path.join(root, target, "m")))
                self.assertFalse(os.path.islink(os.path.join(root, target.split("/")[0])))
            self.assertEqual(sorted(os.listdir(outside)), ["1"])
            self.assertEqual(os.listdir(os.path.join(outside, "1")), ["keep.txt"])
            self.assertEqual([n for n in os.listdir(root) if n.startswith(".stale-")], [])


class IdentityTest(unittest.TestCase):
    def test_without_the_platform_endpoint_the_error_says_why(self):
        identity = ManagedIdentity(HttpClient(5, RetryPolicy()), None, None, CLIENT_ID)
        with self.assertRaisesRegex(ModelFetchError, "IDENTITY_ENDPOINT/IDENTITY_HEADER are not set"):
            identity.token("https://storage.azure.com/", Deadline(5))

    def test_an_identity_not_assigned_to_the_app_is_named(self):
        double = IdentityEndpoint(refuse=True)
        self.addCleanup(double.stop)
        client = HttpClient(5, RetryPolicy())
        self.addCleanup(client.close_all)
        identity = ManagedIdentity(client, double.url + "/msi/token", "test-identity-header", CLIENT_ID)
        with self.assertRaises(ModelAccessDenied) as ctx:
            identity.token("https://storage.azure.com/", Deadline(5))
        self.assertIn(f"client id {CLIENT_ID}", str(ctx.exception))

    def test_tokens_are_cached_per_audience(self):
        double = IdentityEndpoint()
        self.addCleanup(double.stop)
        client = HttpClient(5, RetryPolicy())
        self.addCleanup(client.close_all)
        identity = ManagedIdentity(client, double.url + "/msi/token", "test-identity-header", CLIENT_ID)
        a = identity.token("https://storage.azure.com/", Deadline(5))
        self.assertEqual(identity.token("https://storage.azure.com/", Deadline(5)), a)
        identity.token("https://management.azure.com/", Deadline(5))
        self.assertEqual(len(double.requests), 2)


class HookTest(unittest.TestCase):
    def test_nothing_happens_without_a_model_source(self):
        env = {"AZUREML_MODEL_DIR": "/nowhere"}
        self.assertIsNone(ensure_model(env))
        self.assertEqual(env, {"AZUREML_MODEL_DIR": "/nowhere"})

    def test_the_fetch_runs_before_init_and_a_failed_fetch_is_a_retried_init_attempt(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(__import__("shutil").rmtree, tmp, True)
        path = os.path.join(tmp, "score.py")
        with open(path, "w") as f:
            f.write("def init():\n    pass\ndef run(d):\n    return d\n")
        script = EntryScript(path, model_dir=tmp, policy=InitRetryPolicy(first_delay=0.05, max_delay=0.05))
        self.addCleanup(script.close)
        with mock.patch.dict(os.environ, {"AML_MODEL_SOURCE": "{not json"}), self.assertLogs("aml_host", "ERROR") as logs:
            with self.assertRaises(NotReadyError):
                script.wait_until_ready(0.5)
            self.assertFalse(script.ready)
        self.assertIn("AML_MODEL_SOURCE is not valid JSON", "\n".join(logs.output))
        # With the setting fixed, the next attempt fetches nothing and init() succeeds.
        script.wait_until_ready(10)
        self.assertTrue(script.ready)
