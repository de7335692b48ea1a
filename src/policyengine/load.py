"""Stage 1, load: read YAML safely, keep the line of every value, reject duplicate keys.

The result is plain Python data plus a map from each value's path (a tuple of keys
and list indexes) to its line, so later stages can point at the line a problem is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policyengine.errors import InputError

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """A loaded YAML file: its data and where each value sits."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def error(self, path: Path_, message: str) -> InputError:
        return InputError.at(self.file, self.line(path), message)


class _Loader(yaml.SafeLoader):
    """SafeLoader; documents are built by `_build` below, not by PyYAML's constructors."""


# libyaml's parser, where PyYAML was built with it, parses several times faster; any file it
# rejects is parsed again by the pure-Python loader so that the message is always the same.
_FastLoader: type | None = None
if hasattr(yaml, "CSafeLoader"):

    class _FastLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """CSafeLoader, used only to build the node tree; `_build` does the rest."""


STANDARD_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _build(doc: Document, loader: Any, node: yaml.Node, path: Path_) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if not isinstance(node, yaml.ScalarNode) and node.tag not in STANDARD_TAGS:
        raise InputError.at(doc.file, node.start_mark.line + 1, f"YAML tag '{node.tag}' is not allowed")
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise doc.error(path, "a key must be a plain word, not a list or mapping")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InputError.at(doc.file, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not allowed")
            key = _scalar(doc, loader, key_node)
            if not isinstance(key, str | int | bool) or isinstance(key, bool):
                key = str(key)
            if key in result:
                raise InputError.at(
                    doc.file,
                    key_node.start_mark.line + 1,
                    f"duplicate key '{key}' (first given on line {doc.lines[(*path, key)]})",
                )
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _build(doc, loader, value_node, (*path, key))
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(doc, loader, item, (*path, i)) for i, item in enumerate(node.value)]
    return _scalar(doc, loader, node)


def _scalar(doc: Document, loader: Any, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.constructor.ConstructorError) as exc:
        text = node.value if isinstance(node, yaml.ScalarNode) else "?"
        if node.tag == "tag:yaml.org,2002:timestamp":
            message = f"'{text}' is not a real calendar date"
        else:
            message = f"cannot read value '{text}': {exc}"
        raise InputError.at(doc.file, node.start_mark.line + 1, message) from None


def load_yaml(path: str | Path, text: str | None = None, display: str | None = None) -> Document:
    """Load one YAML file; raise InputError with file and line on any problem."""
    path = Path(path)
    display = display or str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError.at(display, None, "file not found") from None
        except UnicodeDecodeError:
            raise InputError.at(display, None, "file is not UTF-8 text") from None
        except OSError as exc:
            raise InputError.at(display, None, f"cannot read file: {exc.strerror}") from None
    if _FastLoader is not None:
        fast = Document(display, None)
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
            fast.data = None if node is None else _build(fast, loader, node, ())
            return fast
        except (yaml.YAMLError, InputError):
            pass  # parsed again below, for the pure loader's own message
        finally:
            loader.dispose()
    doc = Document(display, None)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        doc.data = None if node is None else _build(doc, loader, node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        raise InputError.at(display, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError.at(display, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return doc


def yaml_files(directory: Path) -> list[Path]:
    """Every .yaml/.yml file below `directory`, in a stable order."""
    return sorted(
        (p for p in directory.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file()),
        key=lambda p: p.relative_to(directory).as_posix(),
    )
