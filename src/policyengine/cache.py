"""The loaded, checked and compiled rulebase (and the federal holiday table), cached between runs.

Loading parses every YAML file, checks it against the vocabulary and compiles the Program;
a command that only evaluates one scenario spends most of its time there. The result is kept
in the user cache directory (platformdirs), under a key made of the package version, the
Python version and the content of every file below the rules directory (and where the rules
are shown from, since rule locations are printed relative to the working directory). A rule
file that changes, another version of policyengine or Python: another key, a fresh load.

A cache file is never trusted blindly: one that does not unpickle, names a class outside
policyengine and the standard containers, or was stored under another key is ignored (and
replaced). What is stored holds only policyengine's checked dataclasses (`checked.py`) and
standard types, so loading it imports no pydantic. The federal holidays of each year the
48-hour reference met (`deadline`) are kept the same way, keyed by the installed `holidays`
distribution, so that a run with a release time does not import that library.

Set POLICYENGINE_CACHE=0 to bypass the cache, POLICYENGINE_CACHE_DIR to move it.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 4  # bump when the pickled shape changes (3: no pydantic objects; 4: documents packed apart)
_SAFE_MODULES = ("policyengine.",)
_SAFE_GLOBALS = {
    ("builtins", name)
    for name in ("dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool", "bytes", "object")
} | {
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"),
    ("pathlib", "Path"),
    ("copyreg", "_reconstructor"),
    ("collections", "OrderedDict"),
}


class _SafeUnpickler(pickle.Unpickler):
    """Only policyengine's own types, dates, paths and containers (never pydantic: see checked.py)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS or module.startswith(_SAFE_MODULES) or module == "policyengine":
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a rulebase cache")


_LINUX = sys.platform.startswith("linux")


def safe_loads(data: bytes) -> Any:
    """Unpickle what this module stored (or a part of it packed apart), allowing only its types."""
    return _SafeUnpickler(io.BytesIO(data)).load()


def cache_dir() -> Path:
    override = os.environ.get("POLICYENGINE_CACHE_DIR")
    if override:
        return Path(override)
    if _LINUX:  # the XDG base directory rule, as platformdirs applies it there, without importing it
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        return Path(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.cache")) / "policyengine"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("policyengine"))


def enabled() -> bool:
    return os.environ.get("POLICYENGINE_CACHE", "1") not in ("0", "false", "no")


def _sha256() -> Any:
    """SHA-256 as CPython implements it itself (`_sha256`, `_sha2` from 3.12), the same digests as
    hashlib's, without importing hashlib, which loads OpenSSL: a fortieth of a `run`, measured.
    hashlib's where neither module exists."""
    import importlib

    for name in ("_sha256", "_sha2"):
        try:
            return importlib.import_module(name).sha256
        except (ImportError, AttributeError):
            continue
    import hashlib

    return hashlib.sha256


def _versioned(*parts: str) -> Any:
    """A SHA-256 begun with the cache format, this package's and Python's versions, and `parts`."""
    from policyengine import __version__

    h = _sha256()()
    for part in (str(FORMAT), __version__, sys.version, *parts):
        h.update(part.encode() + b"\0")
    return h


def rules_key(root: Path, shown_as: str) -> str:
    """The content hash of every file below `root`, with the versions that read them."""
    h = _versioned(shown_as)
    _add_files(h, root, _sha256())
    key: str = h.hexdigest()
    return key


def files_digest(root: Path) -> str:
    """The content hash of every file below `root` alone (names and bytes): what a batch run
    records, so that a run resumed after a rule file changed is refused."""
    sha256 = _sha256()
    h = sha256()
    _add_files(h, root, sha256)
    digest: str = h.hexdigest()
    return digest


def _add_files(h: Any, root: Path, sha256: Any) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(sha256(path.read_bytes()).digest())


def distribution_stamp(name: str) -> str | None:
    """Which installed distribution `name` is (the name of its `.dist-info` folder, as
    `name-VERSION.dist-info`, and when that folder was written), found the way import finds a
    package, first on `sys.path`, without importing it or `importlib.metadata` (a tenth of a
    second each, measured for `holidays`). None if it is not found."""
    prefix = name.replace("-", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found = sorted(n for n in names if n.lower().startswith(prefix) and n.endswith(".dist-info"))
        if found:
            stamps = [f"{n}@{os.stat(os.path.join(entry or '.', n)).st_mtime_ns}" for n in found]
            return ";".join(stamps)
    return None


def derived_key(*parts: str) -> str:
    """A cache key for something derived from `parts` (not the rules), with the versions that derive it."""
    key: str = _versioned(*parts).hexdigest()
    return key


def load(key: str, kind: str = "rulebase") -> Any | None:
    """The object stored under `key`, or None (absent, corrupt, foreign or stored under another key)."""
    path = cache_dir() / f"{kind}-{key[:32]}.pickle"
    try:
        data = path.read_bytes()
        stored_key, obj = _SafeUnpickler(io.BytesIO(data)).load()
    except Exception:  # a cache is only ever an optimisation: anything wrong means "rebuild"
        return None
    return obj if stored_key == key else None


def store(key: str, obj: Any, kind: str = "rulebase") -> None:
    """Store atomically (written beside, then renamed); a cache that cannot be written is skipped."""
    import tempfile  # only when storing (it imports random)

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{kind}-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump((key, obj), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{kind}-{key[:32]}.pickle")
    except OSError:
        pass


def cached(root: Path, shown_as: str, build: Callable[[], Any]) -> Any:
    """`build()`'s result for this rules directory, from the cache when its files are unchanged."""
    if not enabled():
        return build()
    key = rules_key(root, shown_as)
    found = load(key)
    if found is not None:
        return found
    obj = build()
    store(key, obj)
    return obj
