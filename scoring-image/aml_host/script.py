"""Loading and calling an Azure ML entry script, with the AML inference server's semantics.

* The script is loaded by path with importlib, its folder first on ``sys.path``.
* ``init()`` runs exactly once per worker process, before the first ``run``, under a lock, so
  concurrent first invocations wait for the one ``init`` instead of starting their own.
* If loading the script or ``init()`` fails, the error and a bounded listing of
  ``AZUREML_MODEL_DIR`` are logged once, and every later call fails at once with
  :class:`InitFailedError` (the AML server refuses to start in that case; a Functions worker
  cannot refuse, so it answers clearly instead of retrying ``init`` on every request).
* ``run`` input modes (:class:`InputMode`): plain ``run(data)`` gets the body as a UTF-8 str;
  ``@rawhttp`` gets a request object (:class:`aml_host.request.ScoringRequest`);
  ``@input_schema`` (inference-schema) gets the keys of a JSON object body as keyword
  arguments. ``run`` may declare ``request_headers``: it then receives the headers as a dict.
* Optional ``run_batch(mini_batch: list) -> list``: one call for many inputs, each converted
  the same way as for ``run`` (str, request object, or dict of parameters), one result per
  input in the same order. Used by the Service Bus batch path.
"""

import importlib.util
import inspect
import itertools
import json
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .request import ScoringRequest

logger = logging.getLogger("aml_host")

COMPAT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat")

# Modules whose ``rawhttp`` decorator records raw-HTTP mode in a module-level flag.
_RAW_FLAG_MODULES = (
    "azureml.contrib.services.aml_request",
    "azureml_inference_server_http.api.aml_request",
)
_RAW_FLAG = "_rawHttpRequested"
_RAW_ATTR = "__aml_rawhttp__"

MODEL_LISTING_MAX_ENTRIES = 200
MODEL_LISTING_MAX_DEPTH = 6


class InputMode(str, Enum):
    TEXT = "text"
    RAW = "rawhttp"
    SCHEMA = "schema"


class EntryScriptError(Exception):
    """The entry script cannot be used (missing file, missing init/run, import error)."""


class InitFailedError(EntryScriptError):
    """Loading the entry script or its ``init()`` failed in this worker; nothing is scored."""


class InvalidInputError(Exception):
    """The input cannot be handed to ``run`` in the script's input mode."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Payload:
    """What a trigger delivered, in trigger-neutral form."""

    body: bytes
    method: str = "POST"
    url: str = "http://localhost/score"
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Optional[Mapping[str, Any]] = None
    source: str = "request"  # for error messages and logs, e.g. "blob 'input/a.json'"


@dataclass
class PreparedInput:
    """A payload converted to the script's input mode."""

    item: Any  # str (TEXT), ScoringRequest (RAW) or dict of parameters (SCHEMA)
    headers: Dict[str, str]
    source: str


def install_compat() -> None:
    """Append the AML stand-in modules to the END of sys.path (a real package always wins)."""
    if COMPAT_DIR not in sys.path:
        sys.path.append(COMPAT_DIR)


def model_dir_listing(model_dir: Optional[str], max_entries: int = MODEL_LISTING_MAX_ENTRIES,
                      max_depth: int = MODEL_LISTING_MAX_DEPTH) -> str:
    """A bounded, sorted tree of ``model_dir`` (files with sizes) for diagnostics."""
    if not model_dir:
        return "AZUREML_MODEL_DIR is not set"
    if not os.path.isdir(model_dir):
        return f"{model_dir} does not exist or is not a folder"
    lines: List[str] = [f"{model_dir}/"]
    shown = 0
    omitted = 0
    base_depth = model_dir.rstrip(os.sep).count(os.sep)
    for root, dirs, files in os.walk(model_dir):
        dirs.sort()
        depth = root.rstrip(os.sep).count(os.sep) - base_depth
        if depth >= max_depth:
            omitted += len(dirs) + len(files)
            dirs[:] = []
            continue
        rel_root = os.path.relpath(root, model_dir)
        entries = [(d, True) for d in dirs] + [(f, False) for f in sorted(files)]
        for name, is_dir in entries:
            if shown >= max_entries:
                omitted += 1
                continue
            rel = name if rel_root == "." else os.path.join(rel_root, name)
            if is_dir:
                lines.append(f"  {rel}/")
            else:
                try:
                    size = os.path.getsize(os.path.join(root, name))
                    lines.append(f"  {rel} ({size} bytes)")
                except OSError:
                    lines.append(f"  {rel} (unreadable)")
            shown += 1
    if shown == 0:
        lines.append("  (empty)")
    if omitted:
        lines.append(f"  ... {omitted} more entries not shown")
    return "\n".join(lines)


def _unwrap(func: Callable) -> Callable:
    try:
        return inspect.unwrap(func)
    except ValueError:
        return func


def _is_schema_decorated(func: Callable) -> bool:
    """Whether ``func`` carries inference-schema's ``@input_schema``/``@output_schema``.

    inference-schema records decorated functions in ``inference_schema.schema_util``'s
    ``__functions_schema__`` dict, keyed ``"<module>.<name>"`` of the undecorated function, and
    wraps them (wrapt) with ``__wrapped__`` set. A script can only be decorated if it imported
    the package, so the module being absent from ``sys.modules`` means "not decorated": no
    need to have the package installed. When it is loaded, its own ``is_schema_decorated`` is
    the authority.
    """
    util = sys.modules.get("inference_schema.schema_util")
    if util is None:
        return False
    check = getattr(util, "is_schema_decorated", None)
    if callable(check):
        try:
            return bool(check(func))
        except Exception:  # noqa: BLE001 - fall back to reading the registry
            logger.debug("inference_schema.schema_util.is_schema_decorated failed", exc_info=True)
    registry = getattr(util, "__functions_schema__", None)
    if isinstance(registry, dict):
        inner = _unwrap(func)
        key = f"{getattr(inner, '__module__', '<unknown>')}.{getattr(inner, '__name__', '')}"
        return key in registry
    return False


def _reset_raw_flags() -> None:
    for name in _RAW_FLAG_MODULES:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, _RAW_FLAG):
            setattr(module, _RAW_FLAG, False)


def _raw_flag_set() -> bool:
    return any(getattr(sys.modules.get(name), _RAW_FLAG, False) is True for name in _RAW_FLAG_MODULES)


_module_counter = itertools.count()


def _module_name_for(path: str) -> str:
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "script"
    return f"aml_entry_{stem}_{next(_module_counter)}"


class _State(Enum):
    NEW = "new"
    READY = "ready"
    FAILED = "failed"


class EntryScript:
    """One entry script in one worker process. Thread-safe."""

    def __init__(self, path: str, model_dir: Optional[str] = None):
        self.path = os.path.abspath(path)
        self._model_dir = model_dir
        self._lock = threading.Lock()
        self._state = _State.NEW
        self._failure: Optional[str] = None
        self.module = None
        self._run: Optional[Callable] = None
        self._run_batch: Optional[Callable] = None
        self.mode = InputMode.TEXT
        self.accepts_request_headers = False
        self._schema_params: List[inspect.Parameter] = []
        self._schema_var_kw = False

    @property
    def model_dir(self) -> Optional[str]:
        return self._model_dir if self._model_dir is not None else os.environ.get("AZUREML_MODEL_DIR")

    @property
    def ready(self) -> bool:
        return self._state is _State.READY

    @property
    def failure(self) -> Optional[str]:
        return self._failure

    @property
    def has_run_batch(self) -> bool:
        self.ensure_ready()
        return self._run_batch is not None

    # -- loading -------------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """Load the script and run ``init()`` once; raise InitFailedError if that ever failed."""
        if self._state is _State.READY:
            return
        with self._lock:
            if self._state is _State.READY:
                return
            if self._state is _State.FAILED:
                raise InitFailedError(self._failure)
            try:
                self._load()
                logger.info("Entry script %s: calling init()", self.path)
                self.module.init()
            except BaseException as exc:  # noqa: BLE001 - includes SystemExit from init()
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._state = _State.FAILED
                self._failure = (
                    f"The entry script {os.path.basename(self.path)} could not be started in this worker "
                    f"({type(exc).__name__}: {exc}); no input is scored until the app is restarted "
                    f"with a fixed script or model. See the log for the traceback and the model folder."
                )
                logger.error("Entry script %s: loading or init() failed", self.path, exc_info=exc)
                logger.error("Model folder (AZUREML_MODEL_DIR) at the time of the failure:\n%s",
                             model_dir_listing(self.model_dir))
                raise InitFailedError(self._failure) from exc
            self._state = _State.READY
            logger.info("Entry script %s: ready (input mode %s%s%s)", self.path, self.mode.value,
                        ", request_headers" if self.accepts_request_headers else "",
                        ", run_batch" if self._run_batch is not None else "")

    def _load(self) -> None:
        install_compat()
        if not os.path.isfile(self.path):
            raise EntryScriptError(f"entry script not found: {self.path}")
        script_dir = os.path.dirname(self.path)
        if script_dir not in sys.path:
            sys.path.insert(0, script_dir)
        _reset_raw_flags()
        name = _module_name_for(self.path)
        spec = importlib.util.spec_from_file_location(name, self.path)
        if spec is None or spec.loader is None:
            raise EntryScriptError(f"cannot load entry script {self.path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        init = getattr(module, "init", None)
        run = getattr(module, "run", None)
        missing = [n for n, f in (("init()", init), ("run()", run)) if not callable(f)]
        if missing:
            raise EntryScriptError(
                f"entry script {self.path} must define {' and '.join(missing)} (Azure ML entry-script contract)")
        self.module = module
        self._run = run
        run_batch = getattr(module, "run_batch", None)
        self._run_batch = run_batch if callable(run_batch) else None

        inner = _unwrap(run)
        if getattr(run, _RAW_ATTR, False) or getattr(inner, _RAW_ATTR, False) or _raw_flag_set():
            self.mode = InputMode.RAW
        elif _is_schema_decorated(run):
            self.mode = InputMode.SCHEMA
        else:
            self.mode = InputMode.TEXT
        try:
            params = list(inspect.signature(inner).parameters.values())
        except (TypeError, ValueError):
            params = []
        self.accepts_request_headers = any(p.name == "request_headers" for p in params)
        self._schema_params = [
            p for p in params
            if p.name != "request_headers" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        self._schema_var_kw = any(p.kind is p.VAR_KEYWORD for p in params)

    # -- input conversion ----------------------------------------------------------------

    def prepare(self, payload: Payload) -> PreparedInput:
        """Convert a payload to the script's input mode (raises InvalidInputError)."""
        self.ensure_ready()
        headers = {str(k): str(v) for k, v in (payload.headers or {}).items()}
        if self.mode is InputMode.RAW:
            item: Any = ScoringRequest(payload.body, payload.method, payload.url, headers, payload.query)
        elif self.mode is InputMode.TEXT:
            try:
                item = bytes(payload.body).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(400, f"The {payload.source} body is not valid UTF-8 text.") from None
        else:
            item = self._schema_kwargs(payload)
        return PreparedInput(item=item, headers=headers, source=payload.source)

    def _schema_kwargs(self, payload: Payload) -> Dict[str, Any]:
        try:
            obj = json.loads(bytes(payload.body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise InvalidInputError(
                415, f"The {payload.source} body must be JSON: this entry script declares its input with "
                     f"inference-schema.") from None
        if not isinstance(obj, dict):
            raise InvalidInputError(400, f"The {payload.source} body must be a JSON object whose keys are "
                                         f"the parameters of run().")
        names = {p.name for p in self._schema_params}
        kwargs = obj if self._schema_var_kw else {k: v for k, v in obj.items() if k in names}
        missing = [p.name for p in self._schema_params if p.default is p.empty and p.name not in obj]
        if missing:
            raise InvalidInputError(400, f"The {payload.source} is missing required parameter(s) of run(): "
                                         f"{', '.join(missing)}.")
        return dict(kwargs)

    # -- calling ---------------------------------------------------------------------------

    def run(self, prepared: PreparedInput) -> Any:
        """Call ``run`` with one prepared input; exceptions propagate."""
        self.ensure_ready()
        args: Tuple[Any, ...] = ()
        kwargs: Dict[str, Any] = {}
        if self.mode is InputMode.SCHEMA:
            kwargs.update(prepared.item)
        else:
            args = (prepared.item,)
        if self.accepts_request_headers:
            kwargs["request_headers"] = dict(prepared.headers)
        return self._run(*args, **kwargs)

    def run_batch(self, prepared: List[PreparedInput]) -> List[Any]:
        """Call ``run_batch`` once with the items; checks it returned one result per item."""
        self.ensure_ready()
        if self._run_batch is None:
            raise EntryScriptError("the entry script does not define run_batch()")
        results = self._run_batch([p.item for p in prepared])
        if not isinstance(results, (list, tuple)):
            raise TypeError(f"run_batch() returned {type(results).__name__}, expected a list")
        if len(results) != len(prepared):
            raise ValueError(f"run_batch() returned {len(results)} results for {len(prepared)} inputs")
        return list(results)


_default_lock = threading.Lock()
_default_script: Optional[EntryScript] = None


def entry_script_path(environ: Mapping[str, str] = os.environ) -> str:
    """``$AML_APP_ROOT/$AZUREML_ENTRY_SCRIPT`` (as the image lays it out)."""
    rel = environ.get("AZUREML_ENTRY_SCRIPT")
    if not rel:
        raise InitFailedError("AZUREML_ENTRY_SCRIPT is not set: the image must name the entry script.")
    root = environ.get("AML_APP_ROOT", "/var/azureml-app")
    return os.path.join(root, *rel.split("/"))


def get_entry_script() -> EntryScript:
    """The process-wide entry script (from the environment), created on first use."""
    global _default_script
    if _default_script is None:
        with _default_lock:
            if _default_script is None:
                _default_script = EntryScript(entry_script_path())
    return _default_script
