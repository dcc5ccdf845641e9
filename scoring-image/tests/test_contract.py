"""The host side of aml_host/contract.json: every name the host reads is declared there, and the
constants the host uses are the file's (the TypeScript side has __tests__/host-contract.test.ts)."""

import glob
import io
import json
import os
import re
import shutil
import tempfile
import tokenize
import unittest

from aml_host import contract, settings
from aml_host.model_fetch.config import DEFAULT_MODEL_DIR, ModelSpec
from aml_host.model_fetch.errors import ModelFetchError

from .helpers import SCORING_IMAGE
from .test_dockerfile import instructions

NAME = re.compile(r"\b(?:AML|AZUREML)_[A-Z0-9_]+\b")

with open(os.path.join(SCORING_IMAGE, "aml_host", "contract.json"), encoding="utf-8") as _f:
    FILE = json.load(_f)


def host_sources():
    """The Python files that go into the image: aml_host/ and adapters/."""
    for folder in ("aml_host", "adapters"):
        yield from sorted(glob.glob(os.path.join(SCORING_IMAGE, folder, "**", "*.py"), recursive=True))


def names_in_string_literals(path):
    """AML_* and AZUREML_* names inside the string literals (docstrings and f-strings included)
    of one Python file; comments are not read."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    found = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            found.update(NAME.findall(tok.string))
    return found


class ContractFileTest(unittest.TestCase):
    def test_the_host_constants_are_the_files(self):
        self.assertEqual(settings.VALID_KINDS, tuple(FILE["triggerAdapterKinds"]) + (FILE["healthAdapterKind"],))
        self.assertEqual(contract.MODEL_SOURCES, {k: tuple(v) for k, v in FILE["modelSources"].items()})
        self.assertEqual(contract.APP_SETTINGS, frozenset(FILE["appSettings"]))
        self.assertEqual(DEFAULT_MODEL_DIR, FILE["appSettings"]["AZUREML_MODEL_DIR"]["imageValue"])

    def test_every_name_the_host_reads_is_declared(self):
        undeclared = {}
        for path in host_sources():
            missing = names_in_string_literals(path) - set(FILE["appSettings"])
            if missing:
                undeclared[os.path.relpath(path, SCORING_IMAGE)] = sorted(missing)
        self.assertEqual(undeclared, {}, "add these app settings to aml_host/contract.json")

    def test_every_declared_setting_is_read_by_the_host(self):
        used = set()
        for path in host_sources():
            used |= names_in_string_literals(path)
        self.assertEqual(sorted(set(FILE["appSettings"]) - used), [], "declared in contract.json but read nowhere")

    def test_the_scan_sees_names_in_strings_only(self):
        path = os.path.join(self.tmp_dir(), "sample.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write('# AML_IN_A_COMMENT\nx = "AML_A"\ny = f"{x} AZUREML_B {x}"\n"""AML_C in a docstring"""\n')
        self.assertEqual(names_in_string_literals(path), {"AML_A", "AZUREML_B", "AML_C"})

    def tmp_dir(self):
        d = tempfile.mkdtemp(prefix="contract_test_")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    def test_every_adapter_kind_has_its_adapter_module(self):
        for kind in FILE["triggerAdapterKinds"] + [FILE["healthAdapterKind"]]:
            self.assertTrue(os.path.isfile(os.path.join(SCORING_IMAGE, "adapters", f"{kind}_adapter.py")), kind)

    def test_load_function_settings_accepts_exactly_the_declared_kinds(self):
        d = self.tmp_dir()
        for kind in FILE["triggerAdapterKinds"] + [FILE["healthAdapterKind"], "ftp"]:
            with open(os.path.join(d, "aml.json"), "w", encoding="utf-8") as f:
                json.dump({"kind": kind}, f)
            if kind == "ftp":
                with self.assertRaisesRegex(ValueError, "'kind' must be one of http, blob, servicebus, health"):
                    settings.load_function_settings(d)
            else:
                self.assertEqual(settings.load_function_settings(d)["kind"], kind)

    def test_model_sources_parse_with_the_declared_fields_and_no_fewer(self):
        for kind, fields in FILE["modelSources"].items():
            spec = {"kind": kind, **{field: f"/{field}" for field in fields}}
            self.assertEqual(ModelSpec.parse(json.dumps(spec)).kind, kind)
            for field in fields:
                short = {k: v for k, v in spec.items() if k != field}
                with self.assertRaisesRegex(ModelFetchError, f"needs a non-empty string '{field}'"):
                    ModelSpec.parse(json.dumps(short))
        with self.assertRaisesRegex(ModelFetchError, "unknown kind 'ftp': expected amlWorkspace, amlRegistry or blob$"):
            ModelSpec.parse('{"kind": "ftp"}')

    def test_the_dockerfile_sets_the_image_settings_to_their_declared_values(self):
        env = {}
        for keyword, args in instructions(os.path.join(SCORING_IMAGE, "Dockerfile")):
            if keyword == "ENV":
                env.update(dict(pair.split("=", 1) for pair in args.split()))
        set_by_image = {name for name, entry in FILE["appSettings"].items() if "image" in entry["setBy"]}
        self.assertEqual({n for n in env if NAME.fullmatch(n)}, set_by_image)
        for name, entry in FILE["appSettings"].items():
            if "imageValue" in entry:
                self.assertEqual(env[name], entry["imageValue"], name)


if __name__ == "__main__":
    unittest.main()
