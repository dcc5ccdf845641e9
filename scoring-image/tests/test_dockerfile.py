import os
import re
import unittest

from .helpers import SCORING_IMAGE


def instructions(path):
    """Dockerfile instructions as (KEYWORD, args) with continuation lines joined, comments dropped."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line:
            keyword, _, args = line.partition(" ")
            result.append((keyword.upper(), " ".join(args.split())))
    return result


class DockerfileTest(unittest.TestCase):
    def setUp(self):
        self.ins = instructions(os.path.join(SCORING_IMAGE, "Dockerfile"))

    def index(self, keyword, pattern):
        for i, (kw, args) in enumerate(self.ins):
            if kw == keyword and re.search(pattern, args):
                return i
        self.fail(f"no {keyword} matching {pattern!r} in the Dockerfile")

    def test_base_image(self):
        self.assertEqual(self.ins[0], ("ARG", "PYTHON_VERSION=3.11"))
        self.assertEqual(self.ins[1], ("FROM", "mcr.microsoft.com/azure-functions/python:4-python${PYTHON_VERSION}"))

    def test_builds_alike_with_buildkit_and_the_classic_builder(self):
        # ACR builds with BuildKit when the layer cache is on and with the classic builder
        # otherwise; the local Docker mode's provider uses the classic builder. So: no parser
        # directive (a `# syntax=` line would also make every BuildKit build pull a frontend image
        # from Docker Hub), no BuildKit-only instruction flags, and one stage, because BuildKit's
        # inline cache (BUILDKIT_INLINE_CACHE=1) holds the layers of the final stage only.
        with open(os.path.join(SCORING_IMAGE, "Dockerfile"), encoding="utf-8") as f:
            text = f.read()
        self.assertIsNone(re.match(r"(?i)#\s*(syntax|escape|check)\s*=", text))
        self.assertEqual([kw for kw, _ in self.ins].count("FROM"), 1)
        for kw, args in self.ins:
            self.assertNotRegex(args, r"--(mount|link|chmod|parents|exclude|checksum|network|security)\b", f"{kw} {args}")
            self.assertNotIn("<<", args, f"{kw} {args}: heredocs need BuildKit")

    def test_environment(self):
        env = " ".join(args for kw, args in self.ins if kw == "ENV")
        for pair in ("AzureWebJobsScriptRoot=/home/site/wwwroot",
                     "AzureFunctionsJobHost__Logging__Console__IsEnabled=true",
                     "AML_APP_ROOT=/var/azureml-app", "AZUREML_MODEL_DIR=/var/azureml-app/azureml-models",
                     "AZUREML_ENTRY_SCRIPT=${AZUREML_ENTRY_SCRIPT}"):
            self.assertIn(pair, env)

    def test_layer_order_keeps_pip_cache(self):
        pip_host = self.index("RUN", r"pip install --no-cache-dir -r \S*host-requirements\.txt")
        pip_user = self.index("RUN", r"pip install --no-cache-dir -r \S*/requirements\.txt")
        copy_app = self.index("COPY", r"^app/ /home/site/wwwroot/$")
        copy_model = self.index("COPY", r"^model/ /var/azureml-app/azureml-models/$")
        add_pack = self.index("ADD", r"^model-small-files\.tar /var/azureml-app/azureml-models/$")
        copy_source = self.index("COPY", r"^source/ /var/azureml-app/$")
        arg_entry = self.index("ARG", r"^AZUREML_ENTRY_SCRIPT")
        env_entry = self.index("ENV", r"AZUREML_ENTRY_SCRIPT=")
        self.assertLess(pip_host, pip_user)
        last_pip = max(i for i, (kw, args) in enumerate(self.ins) if kw == "RUN" and "pip install" in args)
        self.assertEqual(last_pip, pip_user)
        for later in (copy_app, copy_model, add_pack, copy_source, arg_entry, env_entry):
            self.assertGreater(later, pip_user)
        self.assertLess(arg_entry, env_entry)
        # Only the requirements files are copied before the pip layers.
        early_copies = [args for kw, args in self.ins[:pip_user] if kw in ("COPY", "ADD")]
        self.assertEqual(len(early_copies), 2)
        self.assertTrue(all("requirements.txt" in c for c in early_copies))
        self.assertFalse(any(kw == "RUN" for kw, _ in self.ins[pip_user + 1:]))

    def test_model_copied_before_source(self):
        # A changed entry script must not re-copy the (large) model layer, so source/ comes
        # last. It is copied to the parent of the model folder; the TypeScript staging refuses
        # a source folder with an azureml-models/ sub-folder so nothing can shadow the model.
        copy_model = self.index("COPY", r"^model/ /var/azureml-app/azureml-models/$")
        add_pack = self.index("ADD", r"^model-small-files\.tar /var/azureml-app/azureml-models/$")
        copy_source = self.index("COPY", r"^source/ /var/azureml-app/$")
        self.assertLess(copy_model, copy_source)
        self.assertLess(add_pack, copy_source)

    def test_add_only_unpacks_the_small_files_pack(self):
        # ADD unpacks a local tar archive (and would fetch a URL): it is used for the model's
        # small-files pack only, every other file is copied with COPY.
        adds = [args for kw, args in self.ins if kw == "ADD"]
        self.assertEqual(adds, ["model-small-files.tar /var/azureml-app/azureml-models/"])

    def test_host_requirements_pinned(self):
        with open(os.path.join(SCORING_IMAGE, "requirements.txt")) as f:
            reqs = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
        self.assertEqual(sorted(r.split("==")[0] for r in reqs), ["azure-functions", "azure-identity", "azure-servicebus"])
        self.assertTrue(all(re.fullmatch(r"[a-z-]+==\d+(\.\d+)+", r) for r in reqs), reqs)

    def test_dockerignore_keeps_tests_and_bench_out(self):
        with open(os.path.join(SCORING_IMAGE, ".dockerignore")) as f:
            patterns = {ln.strip() for ln in f if ln.strip() and not ln.startswith("#")}
        for p in ("tests/", "bench/", "**/__pycache__/"):
            self.assertIn(p, patterns)
        self.assertFalse(any(p.startswith(("aml_host", "adapters")) for p in patterns))

    def test_host_json(self):
        import json

        with open(os.path.join(SCORING_IMAGE, "host.json")) as f:
            host = json.load(f)
        self.assertEqual(host["version"], "2.0")
        self.assertEqual(host["extensions"], {})
        self.assertIn("extensionBundle", host)
