import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from aml_host.response import AMLResponse

from .helpers import SCORING_IMAGE


def run_isolated(code: str, extra_path=()) -> str:
    """Run code in a fresh interpreter (clean sys.modules) with scoring-image importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SCORING_IMAGE, *extra_path])
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed:\n{proc.stderr}")
    return proc.stdout.strip()


class CompatShimTest(unittest.TestCase):
    def test_stand_ins_used_when_packages_absent(self):
        out = run_isolated("""
            import sys
            from aml_host.script import COMPAT_DIR, install_compat
            from aml_host.request import ScoringRequest
            from aml_host.response import AMLResponse as Ours
            install_compat()
            install_compat()
            assert sys.path.count(COMPAT_DIR) == 1 and sys.path[-1] == COMPAT_DIR
            from azureml.contrib.services.aml_request import AMLRequest, rawhttp
            from azureml.contrib.services.aml_response import AMLResponse
            assert AMLRequest is ScoringRequest and AMLResponse is Ours
            import azureml.contrib.services.aml_request as m
            assert m._rawHttpRequested is False
            f = rawhttp(lambda r: r)
            assert m._rawHttpRequested is True and f.__aml_rawhttp__ is True
            from azureml_inference_server_http.api.aml_request import rawhttp as r2
            print("compat-ok")
        """)
        self.assertEqual(out, "compat-ok")

    def test_real_package_wins(self):
        with tempfile.TemporaryDirectory() as site:
            services = os.path.join(site, "azureml", "contrib", "services")
            os.makedirs(services)
            for rel in ("azureml/__init__.py", "azureml/contrib/__init__.py", "azureml/contrib/services/__init__.py"):
                open(os.path.join(site, rel), "w").close()
            with open(os.path.join(services, "aml_request.py"), "w") as f:
                f.write("REAL = True\n_rawHttpRequested = False\ndef rawhttp(fn):\n"
                        "    global _rawHttpRequested\n    _rawHttpRequested = True\n    return fn\n"
                        "class AMLRequest: pass\n")
            out = run_isolated("""
                import os
                from aml_host.script import install_compat, EntryScript, InputMode
                install_compat()
                import azureml.contrib.services.aml_request as m
                assert getattr(m, "REAL", False), m.__file__
                # A script using the real rawhttp (flag only, no attribute) is still raw mode.
                import tempfile
                d = tempfile.mkdtemp()
                p = os.path.join(d, "score.py")
                open(p, "w").write("from azureml.contrib.services.aml_request import rawhttp\\n"
                                   "def init(): pass\\n@rawhttp\\ndef run(r): return r\\n")
                s = EntryScript(p, model_dir=d)
                s.ensure_ready()
                assert s.mode is InputMode.RAW
                print("real-wins")
            """, extra_path=[site])
        self.assertEqual(out, "real-wins")

    def test_stand_in_merges_with_a_real_azureml_namespace(self):
        # e.g. azureml-core installed (pkgutil-style namespace) but not azureml-contrib-services.
        with tempfile.TemporaryDirectory() as site:
            os.makedirs(os.path.join(site, "azureml"))
            with open(os.path.join(site, "azureml", "__init__.py"), "w") as f:
                f.write("__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n")
            with open(os.path.join(site, "azureml", "core.py"), "w") as f:
                f.write("CORE = True\n")
            out = run_isolated("""
                from aml_host.script import install_compat
                install_compat()
                import azureml.core
                from azureml.contrib.services.aml_request import AMLRequest
                from aml_host.request import ScoringRequest
                assert azureml.core.CORE and AMLRequest is ScoringRequest
                print("merged")
            """, extra_path=[site])
        self.assertEqual(out, "merged")


class AMLResponseSemanticsTest(unittest.TestCase):
    def test_json_str(self):
        r = AMLResponse({"x": 1}, 200, json_str=True)
        self.assertEqual((r.get_data(), r.headers["Content-Type"], r.status_code), (b'{"x": 1}', "application/json", 200))

    def test_plain_message_and_headers(self):
        r = AMLResponse("héllo", 404, {"content-type": "text/plain"})
        self.assertEqual(r.get_data(), "héllo".encode())
        self.assertEqual(r.headers, {"content-type": "text/plain"})
        self.assertEqual(r.get_data(as_text=True), "héllo")
