"""Loading and calling an Azure ML entry script, with the AML inference server's semantics.

* The script is loaded by path with importlib, its folder first on ``sys.path``.
* ``init()`` runs on a background thread of its own, started by the first invocation (or the
  first health ping), so at most one attempt runs at a time and a successful ``init()`` runs
  exactly once per worker process, however many invocations arrive together.
* If loading the script or ``init()`` fails, the error and a bounded listing of
  ``AZUREML_MODEL_DIR`` are logged and the attempt is repeated after a doubling delay
  (:class:`InitRetryPolicy`: 5 s, 10 s, 20 s, ... capped at 60 s; app settings
  ``AML_INIT_RETRY_FIRST_SECONDS`` / ``AML_INIT_RETRY_MAX_SECONDS``). A failing first
  ``init()`` is expected on a new app: role assignments take minutes to propagate. Retries go
  on until one succeeds; the health function (``/api/health``) answers 503 meanwhile, so the
  platform can replace an instance that never becomes ready.
* Functions in :data:`BEFORE_INIT_HOOKS` run at the start of every attempt, before the script
  is loaded (model fetching belongs there): their failures are retried like ``init()``'s.
* Callers wait for readiness with a bound: :meth:`EntryScript.wait_until_ready` (blob and
  Service Bus invocations: up to ``AML_INIT_WAIT_SECONDS``, across retries, so a queue of
  deliveries fails slowly instead of burning its delivery count in milliseconds) and
  :meth:`EntryScript.wait_for_attempt` (HTTP: waits for a running attempt up to
  ``AML_HTTP_INIT_WAIT_SECONDS``, never for a retry: the caller gets 503 with Retry-After).
  Both raise :class:`NotReadyError` (an :class:`InitFailedError`). Module-level
  :func:`wait_until_ready` does the same for the process-wide script.
* A body that will be parsed as JSON with more elements than ``AML_MAX_JSON_ELEMENTS`` is
  refused before ``run`` (:mod:`aml_host.json_limits`): parsing it could take gigabytes.
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
import math
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from . import model_fetch
from .contract import IMAGE_VALUES
from .json_limits import JsonTooLargeError, check_json_elements, looks_like_json
from .request import ScoringRequest
from .settings import number_setting

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


class ScriptExitError(Exception):
    """``run()`` or ``run_batch()`` ended with a BaseException that is not an Exception
    (``sys.exit()``, ``KeyboardInterrupt``, ``asyncio.CancelledError``, ...): a failure of that
    call, not of the worker. Left alone, such an exception passes every ``except Exception`` and
    ends the invocation for every input of a batch: KeyboardInterrupt stops the worker's event
    loop, CancelledError leaves the invocation without an answer until the host times it out."""


def _script_exit(call: str, exc: BaseException) -> ScriptExitError:
    if isinstance(exc, SystemExit):
        return ScriptExitError(f"{call} called sys.exit({exc.code!r})")
    return ScriptExitError(f"{call} raised {type(exc).__name__}")


class InitFailedError(EntryScriptError):
    """The entry script is not usable in this worker (yet); nothing is scored."""


class NotReadyError(InitFailedError):
    """The entry script did not become ready within the wait: ``init()`` is still running, or
    it failed and the next attempt is scheduled. ``retry_after`` is a hint in whole seconds."""

    def __init__(self, message: str, retry_after: int, initialising: bool):
        super().__init__(message)
        self.retry_after = retry_after
        self.initialising = initialising


@dataclass(frozen=True)
class InitRetryPolicy:
    """When failed ``init()`` attempts are repeated and how long callers wait (seconds)."""

    first_delay: float = 5.0
    max_delay: float = 60.0
    trigger_wait: float = 240.0
    http_wait: float = 60.0

    def delay(self, failures: int) -> float:
        """Delay after the ``failures``-th failed attempt in a row: first, 2x first, ... capped."""
        return min(self.max_delay, self.first_delay * (2 ** min(max(failures, 1) - 1, 30)))

    @classmethod
    def from_environ(cls, environ: Optional[Mapping[str, str]] = None) -> "InitRetryPolicy":
        d = cls()
        first = number_setting("AML_INIT_RETRY_FIRST_SECONDS", d.first_delay, 0.01, 3600, environ)
        cap = number_setting("AML_INIT_RETRY_MAX_SECONDS", max(d.max_delay, first), first, 3600, environ)
        # Blob/Service Bus waits stay below the 10-minute function timeout of host.json; HTTP
        # waits below the 230 s after which the Functions front end gives up on a request.
        trigger_wait = number_setting("AML_INIT_WAIT_SECONDS", d.trigger_wait, 0, 570, environ)
        http_wait = number_setting("AML_HTTP_INIT_WAIT_SECONDS", d.http_wait, 0, 220, environ)
        return cls(first_delay=first, max_delay=cap, trigger_wait=trigger_wait, http_wait=http_wait)


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


# Called with the EntryScript at the start of every init() attempt, before the script is
# loaded (e.g. to fetch the model into AZUREML_MODEL_DIR). A hook that raises makes the attempt
# fail: it is logged and retried with the same backoff as init().
BEFORE_INIT_HOOKS: List[Callable[["EntryScript"], None]] = []
# A model kept in Azure (AML_MODEL_SOURCE) is downloaded first; a failed download is a failed attempt.
BEFORE_INIT_HOOKS.append(lambda _script: model_fetch.ensure_model())


class _State(Enum):
    NEW = "new"
    INITIALISING = "initialising"
    READY = "ready"
    RETRY_WAIT = "retry-wait"  # the last attempt failed; the next one is scheduled


class EntryScript:
    """One entry script in one worker process. Thread-safe."""

    def __init__(self, path: str, model_dir: Optional[str] = None, policy: Optional[InitRetryPolicy] = None):
        self.path = os.path.abspath(path)
        self._model_dir = model_dir
        self.policy = policy if policy is not None else InitRetryPolicy.from_environ()
        self._cond = threading.Condition()
        self._state = _State.NEW
        self._failure: Optional[str] = None
        self._failures = 0  # failed attempts in a row
        self._attempts = 0
        self._next_attempt_at = 0.0
        self._closed = False
        self._thread: Optional[threading.Thread] = None
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
        """What the last failed attempt said (None before any failure)."""
        return self._failure

    @property
    def attempts(self) -> int:
        """``init()`` attempts started so far (load + init)."""
        return self._attempts

    @property
    def state(self) -> str:
        """"new", "initialising", "ready" or "retry-wait"."""
        return self._state.value

    @property
    def has_run_batch(self) -> bool:
        self.ensure_ready()
        return self._run_batch is not None

    # -- loading -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background ``init()`` thread if it is not running yet; never blocks."""
        with self._cond:
            if self._state is not _State.NEW or self._closed:
                return
            self._state = _State.INITIALISING
            self._attempts += 1
            self._thread = threading.Thread(target=self._init_loop, name="aml-entry-script-init", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop retrying (for tests and shutdown); a running attempt finishes on its own."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_until_ready(self, timeout: Optional[float] = None) -> None:
        """Wait up to ``timeout`` seconds (default: the policy's trigger wait) for ``init()`` to
        succeed, across retries; raise :class:`NotReadyError` if it has not by then."""
        self._wait(self.policy.trigger_wait if timeout is None else timeout, across_retries=True)

    def wait_for_attempt(self, timeout: Optional[float] = None) -> None:
        """Wait up to ``timeout`` seconds (default: the policy's HTTP wait) for a RUNNING attempt;
        raise :class:`NotReadyError` at once if the last attempt failed (a retry is scheduled)."""
        self._wait(self.policy.http_wait if timeout is None else timeout, across_retries=False)

    def ensure_ready(self, timeout: Optional[float] = None) -> None:
        """Return when ready; otherwise like :meth:`wait_until_ready` (which returns at once when
        ready)."""
        self.wait_until_ready(timeout)

    def _wait(self, timeout: float, across_retries: bool) -> None:
        if self._state is _State.READY:
            return
        self.start()
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                state = self._state
                if state is _State.READY:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed or (state is _State.RETRY_WAIT and not across_retries):
                    raise self._not_ready(timeout)
                self._cond.wait(remaining)

    def _not_ready(self, waited: float) -> NotReadyError:
        name = os.path.basename(self.path)
        if self._state is _State.RETRY_WAIT:
            retry_in = max(0.0, self._next_attempt_at - time.monotonic())
            return NotReadyError(
                f"The entry script {name} is not ready: init() failed {self._failures} time(s) in a row "
                f"(last: {self._failure}); the next attempt starts in {retry_in:.0f} s.",
                retry_after=max(1, math.ceil(retry_in)), initialising=False)
        if self._closed and self._state is not _State.INITIALISING:
            return NotReadyError(f"The entry script {name} is not ready: retrying was stopped.", 60, False)
        return NotReadyError(
            f"The entry script {name} is not ready: init() attempt {self._attempts} is still running "
            f"after waiting {waited:g} s.", retry_after=max(1, math.ceil(self.policy.first_delay)),
            initialising=True)

    def _init_loop(self) -> None:
        while True:
            ok = self._attempt()
            with self._cond:
                if ok:
                    self._state = _State.READY
                    self._failures = 0
                    self._cond.notify_all()
                    return
                self._failures += 1
                delay = self.policy.delay(self._failures)
                self._next_attempt_at = time.monotonic() + delay
                self._state = _State.RETRY_WAIT
                self._cond.notify_all()
                logger.error("Entry script %s: init() attempt %d failed; retrying in %g s",
                             self.path, self._attempts, delay)
                while not self._closed and time.monotonic() < self._next_attempt_at:
                    self._cond.wait(self._next_attempt_at - time.monotonic())
                if self._closed:
                    return
                self._state = _State.INITIALISING
                self._attempts += 1
                self._cond.notify_all()

    def _attempt(self) -> bool:
        """One load + ``init()``; True on success. Runs on the init thread, outside the lock."""
        try:
            for hook in list(BEFORE_INIT_HOOKS):
                hook(self)
            self._load()
            logger.info("Entry script %s: calling init() (attempt %d)", self.path, self._attempts)
            self.module.init()
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit from init()
            if self.module is not None:
                sys.modules.pop(self.module.__name__, None)
            self.module, self._run, self._run_batch = None, None, None
            self._failure = f"{type(exc).__name__}: {exc}"
            logger.error("Entry script %s: loading or init() failed (attempt %d)", self.path, self._attempts,
                         exc_info=exc)
            if self._failures == 0:
                logger.error("Model folder (AZUREML_MODEL_DIR) at the time of the failure:\n%s",
                             model_dir_listing(self.model_dir))
            return False
        logger.info("Entry script %s: ready after %d attempt(s) (input mode %s%s%s)", self.path, self._attempts,
                    self.mode.value, ", request_headers" if self.accepts_request_headers else "",
                    ", run_batch" if self._run_batch is not None else "")
        return True

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
        if self.mode is InputMode.SCHEMA or looks_like_json(payload.body, headers):
            # Before anything parses it: the host (schema mode) or the script (json.loads).
            try:
                check_json_elements(payload.body, payload.source)
            except JsonTooLargeError as exc:
                raise InvalidInputError(exc.status, exc.message) from None
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
        except RecursionError:
            raise InvalidInputError(400, f"The {payload.source} body is JSON nested too deeply.") from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
            limit = getattr(sys, "get_int_max_str_digits", None)
            if limit is not None and not isinstance(exc, (UnicodeDecodeError, json.JSONDecodeError)):
                # Valid JSON, but an integer longer than Python converts to int.
                raise InvalidInputError(
                    400, f"The {payload.source} body holds an integer with more than {limit()} digits, more "
                         f"than Python converts; send it as a string.") from None
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
        try:
            return self._run(*args, **kwargs)
        except Exception:
            raise
        except BaseException as exc:  # noqa: BLE001 - see ScriptExitError
            raise _script_exit("run()", exc) from None

    def run_batch(self, prepared: List[PreparedInput]) -> List[Any]:
        """Call ``run_batch`` once with the items; checks it returned one result per item."""
        self.ensure_ready()
        if self._run_batch is None:
            raise EntryScriptError("the entry script does not define run_batch()")
        try:
            results = self._run_batch([p.item for p in prepared])
        except Exception:
            raise
        except BaseException as exc:  # noqa: BLE001 - see ScriptExitError
            raise _script_exit("run_batch()", exc) from None
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
    root = environ.get("AML_APP_ROOT", IMAGE_VALUES["AML_APP_ROOT"])
    return os.path.join(root, *rel.split("/"))


def get_entry_script() -> EntryScript:
    """The process-wide entry script (from the environment), created on first use."""
    global _default_script
    if _default_script is None:
        with _default_lock:
            if _default_script is None:
                _default_script = EntryScript(entry_script_path())
    return _default_script


def wait_until_ready(timeout: Optional[float] = None) -> EntryScript:
    """Start ``init()`` if needed and wait up to ``timeout`` seconds (default
    ``AML_INIT_WAIT_SECONDS``, 240) for the process-wide entry script to be ready, across
    retries. Returns the script; raises :class:`InitFailedError` (:class:`NotReadyError` when
    the wait ran out). For queue-like triggers: failing slowly keeps a broken start from using
    up the delivery count of every waiting message."""
    script = get_entry_script()
    script.wait_until_ready(timeout)
    return script
