"""Stage 1, load: read YAML safely, keep the line of every value, reject duplicate keys.

The result is plain Python data plus a map from each value's path (a tuple of keys
and list indexes) to its line, so later stages can point at the line a problem is on.

Rule and scenario files are untrusted text, so reading is contained: only regular files
(a symbolic link must stay inside the directory being read), at most MAX_FILE_BYTES, UTF-8
(a byte-order mark is dropped, CRLF line ends read as LF), no control characters, no YAML
anchors or aliases (an alias bomb expands exponentially), at most MAX_DEPTH levels of
nesting. Every failure is an InputError with the file and, where one exists, the line.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# PyYAML's pure-Python Reader compiles, when PyYAML is imported, a character class spanning all of
# Unicode (its printable characters), which costs `re` about as much as the rest of importing PyYAML
# together, on every command; this module reads with libyaml, which does not use it. The same class
# written as the negation's complement (the characters it refuses, a few short ranges) compiles ten
# times faster and matches exactly the same characters (tests/test_load.py compares them on every
# code point), so it is placed in `re`'s cache under PyYAML's pattern first. Where `re` keeps no such
# cache, nothing is done.
YAML_NOT_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
YAML_NOT_PRINTABLE_FAST = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
_re_cache = getattr(re, "_cache", None)
if isinstance(_re_cache, dict) and (str, YAML_NOT_PRINTABLE, 0) not in _re_cache:
    _re_cache[(str, YAML_NOT_PRINTABLE, 0)] = re.compile(YAML_NOT_PRINTABLE_FAST)

import yaml  # noqa: E402  (after the cache entry above)

from policyengine.errors import InputError, Problem  # noqa: E402

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """A loaded YAML file: its data and where each value sits."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    #: with `load_yaml(..., as_written=True)`: keys are the text as written, and here is the text
    #: of each value YAML reads as something else (`yes` as true, `01` as 1, `null` as None)
    written: dict[Path_, str] | None = None

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def error(self, path: Path_, message: str, code: str | None = None) -> InputError:
        return InputError.at(self.file, self.line(path), message, code)


MAX_FILE_BYTES = 256 * 1024  # ten times the largest bundled file; PyYAML reads about 100 KB a second
MAX_DEPTH = 40  # nesting of mappings and lists; the bundled files use at most 9

# PE codes of the problems raised here (docs/errors/PEnnn.md)
NOT_A_FILE = "PE108"
TOO_LARGE = "PE109"
NOT_TEXT = "PE110"
YAML_NOT_ALLOWED = "PE111"
LOADER_CODES = (NOT_A_FILE, TOO_LARGE, NOT_TEXT, YAML_NOT_ALLOWED)


# libyaml's parser where PyYAML has it (ten times faster); the pure-Python one otherwise.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type, unused-ignore]
    """The safe loader; documents are built by `_build` below, not by PyYAML's constructors."""


STANDARD_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _refuse_alias_and_depth(doc: Document, node: yaml.Node, path: Path_, seen: set[int]) -> None:
    """Refuse a node met twice (an alias repeats its anchor's node) and nesting beyond MAX_DEPTH.

    PyYAML composes an alias as a second reference to the same node, so nothing has been expanded
    yet: an alias bomb ("billion laughs") is stopped here, at the anchored value's line, before
    `_build` would copy it exponentially often.
    """
    line = node.start_mark.line + 1
    if id(node) in seen:
        raise InputError.at(
            doc.file,
            line,
            "this value is used again through a YAML alias ('*name'); anchors and aliases are "
            "not allowed, write the value out",
            YAML_NOT_ALLOWED,
        )
    seen.add(id(node))
    if len(path) > MAX_DEPTH:
        raise InputError.at(doc.file, line, f"nesting deeper than {MAX_DEPTH} levels", YAML_NOT_ALLOWED)


def _build(doc: Document, loader: _Loader, node: yaml.Node, path: Path_, seen: set[int]) -> Any:
    _refuse_alias_and_depth(doc, node, path, seen)
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if not isinstance(node, yaml.ScalarNode) and node.tag not in STANDARD_TAGS:
        raise InputError.at(doc.file, node.start_mark.line + 1, f"YAML tag '{node.tag}' is not allowed", code="PE101")
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise doc.error(path, "a key must be a plain word, not a list or mapping", code="PE101")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InputError.at(
                    doc.file, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not allowed", code="PE101"
                )
            _refuse_alias_and_depth(doc, key_node, path, seen)
            if doc.written is not None:
                key = key_node.value
            else:
                key = _scalar(doc, loader, key_node)
                if not isinstance(key, str | int | bool) or isinstance(key, bool):
                    key = str(key)
            if key in result:
                raise InputError.at(
                    doc.file,
                    key_node.start_mark.line + 1,
                    f"duplicate key '{key}' (first given on line {doc.lines[(*path, key)]})",
                    code="PE101",
                )
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _build(doc, loader, value_node, (*path, key), seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(doc, loader, item, (*path, i), seen) for i, item in enumerate(node.value)]
    value = _scalar(doc, loader, node)
    if doc.written is not None and not isinstance(value, str):
        doc.written[path] = node.value
    return value


def _scalar(doc: Document, loader: _Loader, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.constructor.ConstructorError) as exc:
        text = node.value if isinstance(node, yaml.ScalarNode) else "?"
        if node.tag == "tag:yaml.org,2002:timestamp":
            message = f"'{text}' is not a real calendar date"
        else:
            message = f"cannot read value '{text}': {exc}"
        raise InputError.at(doc.file, node.start_mark.line + 1, message, code="PE101") from None


def display_name(path: str | Path) -> str:
    """How the user would name `path`: relative to the working directory where it lies below it.

    The file itself is never resolved (a symbolic link keeps its own name, and a link loop
    cannot raise here); only the directory it is in.
    """
    path = Path(path)
    try:
        where = path.parent.resolve() / path.name
        return str(where.relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


_FILE_KINDS = [
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
]


def file_problem(path: Path, inside: Path | None = None) -> str | None:
    """Why `path` cannot be read as a rule or scenario file, or None when it can.

    With `inside`, a symbolic link must resolve to a file below that directory.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a symbolic link to a file that does not exist" if path.is_symlink() else "file not found"
    except OSError as exc:
        if exc.errno == getattr(os, "ELOOP", None) or path.is_symlink():
            return "a symbolic link that loops or cannot be followed"
        return f"cannot read file: {exc.strerror}"
    for test, kind in _FILE_KINDS:
        if test(mode):
            return f"{kind}, not a YAML file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if inside is not None and path.is_symlink():
        try:
            Path(os.path.realpath(path)).relative_to(Path(os.path.realpath(inside)))
        except ValueError:
            return f"a symbolic link to a file outside {display_name(inside)}; files are read only from inside it"
    return None


def read_text(path: Path, display: str) -> str:
    """The text of a user's file, contained: a regular file, size-limited, UTF-8, no control characters."""
    why = file_problem(path)
    if why is not None:
        raise InputError.at(display, None, why, NOT_A_FILE if why != "file not found" else "PE101")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between the check and the open
                raise InputError.at(display, None, "not a regular file", NOT_A_FILE)
            with os.fdopen(fd, "rb", closefd=False) as f:
                raw = f.read(MAX_FILE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise InputError.at(display, None, f"cannot read file: {exc.strerror}", NOT_A_FILE) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError.at(
            display,
            None,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB, the limit for rule and scenario files",
            TOO_LARGE,
        )
    return decode(raw, display)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# What YAML 1.1 allows in a document (PyYAML's Reader), less U+0085 (NEL), which breaks lines unseen.
_NOT_PRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _where(text: str, offset: int) -> tuple[int, int]:
    """Line and column (both from 1) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def utf16_error(raw: bytes, display: str) -> InputError | None:
    """The error for bytes that open as UTF-16 text (None: they do not)."""
    if raw.startswith(_UTF16_BOMS):
        return InputError.at(display, 1, "file is UTF-16 text; save it as UTF-8", NOT_TEXT)
    return None


def not_utf8_error(raw: bytes, bad: UnicodeDecodeError, display: str, lines_before: int = 0) -> InputError:
    """The error for the byte of `raw` that `bad` found not UTF-8, at its line (counted after
    `lines_before`, for a piece of a longer file) and column."""
    good = raw[: bad.start].decode("utf-8", errors="replace")
    line, column = _where(good, len(good))
    message = f"file is not UTF-8 text: byte 0x{raw[bad.start]:02x} at column {column}"
    return InputError.at(display, lines_before + line, message, NOT_TEXT)


def decode(raw: bytes, display: str) -> str:
    """UTF-8 bytes as text with LF line ends; a bad byte or control character is located by line and column."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    utf16 = utf16_error(raw, display)
    if utf16 is not None:
        raise utf16
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8_error(raw, exc, display) from None
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line, column = _where(text, bad.start())
        raise InputError.at(
            display, line, f"control character U+{ord(bad.group()):04X} at column {column} is not allowed", NOT_TEXT
        )
    return text


def _yaml_problem(text: str, problem: str, mark: yaml.Mark | None) -> str:
    """PyYAML's message, with a plain word on a tab where one stands (YAML indents with spaces only)."""
    if mark is not None:
        lines = text.split("\n")
        line = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in line[: mark.column + 1]:
            return f"invalid YAML: a tab character at column {line.index(chr(9)) + 1}; YAML indents with spaces"
    return f"invalid YAML: {problem}"


def load_yaml(
    path: str | Path, text: str | None = None, display: str | None = None, as_written: bool = False
) -> Document:
    """Load one YAML file; raise InputError with file and line on any problem (files found by
    `yaml_files` have had their symbolic links checked to stay inside the directory).

    `as_written`: every key is the text written (a batch mapping's keys are a dataset's column
    names and values, which YAML would otherwise read as true, 1 or None), and `Document.written`
    keeps the text of every value read as something other than text."""
    path = Path(path)
    display = display or str(path)
    text = read_text(path, display) if text is None else decode(text.encode("utf-8", "surrogatepass"), display)
    doc = Document(display, None, written={} if as_written else None)
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        doc.data = None if node is None else _build(doc, loader, node, (), set())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError.at(
            display, line, _yaml_problem(text, exc.problem or "invalid YAML", mark), code="PE101"
        ) from None
    except yaml.YAMLError as exc:  # ReaderError and others without a mark
        raise InputError.at(display, None, f"invalid YAML: {exc}", code="PE101") from None
    except RecursionError:
        raise InputError.at(display, None, "nesting too deep to read", YAML_NOT_ALLOWED) from None
    finally:
        if loader is not None:
            loader.dispose()
    return doc


def yaml_files(directory: Path) -> list[Path]:
    """Every .yaml/.yml entry below `directory`, in a stable order; nothing skipped silently.

    An entry with a YAML name that is not a readable regular file inside `directory` (a
    directory, FIFO, device, dangling or looping symbolic link, a link leading outside) and a
    symbolic link to a directory (never followed) are errors, all reported together.
    """
    found: list[Path] = []
    problems: list[Problem] = []
    pending = [directory]
    while pending:
        here = pending.pop()
        try:
            entries = list(os.scandir(here))
        except OSError as exc:
            problems.append(Problem(display_name(here), None, f"cannot read directory: {exc.strerror}", NOT_A_FILE))
            continue
        for entry in entries:
            path = Path(entry.path)
            if path.suffix in {".yaml", ".yml"}:
                why = file_problem(path, directory)
                if why is None:
                    found.append(path)
                else:
                    problems.append(Problem(display_name(path), None, why, NOT_A_FILE))
            elif entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif entry.is_symlink() and path.is_dir():
                message = "a symbolic link to a directory; rules and scenarios are read only from real directories"
                problems.append(Problem(display_name(path), None, message, NOT_A_FILE))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.file))
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())
