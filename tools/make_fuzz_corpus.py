#!/usr/bin/env python3
"""Write the fuzz corpus: malformed rule and scenario files made from the bundled ones.

    .venv/bin/python tools/make_fuzz_corpus.py [--seed N] [--per-kind N]

Seeded, so the same seed writes the same corpus. Each input is a bundled file (a rule file,
a scenario, the vocabulary or the registry) damaged in one named way: truncated, a line
deleted, duplicated or swapped, a value of the wrong type, a control byte, bytes that are not
UTF-8, a byte-order mark or CRLF line ends or tabs together with another fault, deep nesting,
an alias bomb, and so on. A candidate is kept only if policyengine does not accept it (a
damage that leaves a valid file, such as deleting a `notes:` line, is drawn again), so every
input must be rejected: the corpus test (tests/test_fuzz_corpus.py) asserts how.

Layout: tests/fuzz/corpus/<target>/<kind>-<n>.<ext>, target one of rules, scenarios,
vocabulary, registry; `.yaml` for text, `.bin` for inputs that are not valid UTF-8 text (the
test copies each into place under its real name). Inputs found by the coverage-guided fuzzer
(tools/atheris_fuzz.py) are kept in tests/fuzz/corpus/found/ and never rewritten here.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from policyengine.errors import InputError  # noqa: E402
from policyengine.pipeline import load_rulebase, load_scenario  # noqa: E402

CORPUS = ROOT / "tests" / "fuzz" / "corpus"
TARGETS = ("rules", "scenarios", "vocabulary", "registry")
Mutator = Callable[[random.Random, bytes], bytes]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(1, len(data))]


def delete_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def duplicate_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def swap_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


WRONG_VALUES = [
    b"[1, 2]",
    b"{a: 1}",
    b"42",
    b"true",
    b"null",
    b"2026-02-30",
    b"~",
    b"''",
    b"-1",
    b"1e999",
    b"!!binary aGVsbG8=",
    b"!!python/object/apply:os.system ['true']",
    b"9" * 5000,
    b"[]",
    b"{}",
    b"2026-13-01",
    b"0x1F",
    b".nan",
    b"!!set {a, b}",
    b"!!omap [a: 1]",
]


def wrong_type(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    candidates = [i for i, line in enumerate(lines) if b": " in line and not line.lstrip().startswith(b"#")]
    i = rng.choice(candidates)
    key, _, _ = lines[i].partition(b": ")
    lines[i] = key + b": " + rng.choice(WRONG_VALUES)
    return b"\n".join(lines)


def rename_key(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    candidates = [i for i, line in enumerate(lines) if b":" in line and not line.lstrip().startswith(b"#")]
    i = rng.choice(candidates)
    key, sep, rest = lines[i].partition(b":")
    stripped = key.lstrip(b" -")
    if len(stripped) > 1:
        j = rng.randrange(len(stripped))
        stripped = stripped[:j] + bytes([rng.choice(b"xyzq_")]) + stripped[j + 1 :]
    lines[i] = key[: len(key) - len(key.lstrip(b" -"))] + stripped + sep + rest
    return b"\n".join(lines)


def control_byte(rng: random.Random, data: bytes) -> bytes:
    byte = rng.choice([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
    i = rng.randrange(len(data))
    return data[:i] + bytes([byte]) + data[i:]


def not_utf8(rng: random.Random, data: bytes) -> bytes:
    bad = rng.choice([b"\xff", b"\xfe", b"\xc3\x28", b"\xe9", b"\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
    i = rng.randrange(len(data))
    return data[:i] + bad + data[i:]


def latin1(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8")
    i = rng.randrange(len(text))
    return (text[:i] + rng.choice("éñüçß§") + text[i:]).encode("latin-1", errors="replace")


def utf16(rng: random.Random, data: bytes) -> bytes:
    return data.decode("utf-8").encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32"]))


def _plus(rng: random.Random, data: bytes) -> bytes:
    """A second, breaking fault, so that a harmless encoding variant is still malformed."""
    return rng.choice([truncate, delete_line, duplicate_line, wrong_type, rename_key])(rng, data)


def bom_and_fault(rng: random.Random, data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + _plus(rng, data)


def crlf_and_fault(rng: random.Random, data: bytes) -> bytes:
    return _plus(rng, data).replace(b"\n", b"\r\n")


def cr_only_and_fault(rng: random.Random, data: bytes) -> bytes:
    return _plus(rng, data).replace(b"\n", b"\r")


def tab_indent(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    indented = [i for i, line in enumerate(lines) if line.startswith(b"  ")]
    for i in rng.sample(indented, k=min(len(indented), rng.randint(1, 3))):
        lines[i] = b"\t" + lines[i].lstrip(b" ")
    return b"\n".join(lines)


def deep_flow(rng: random.Random, data: bytes) -> bytes:
    n = rng.choice([41, 60, 100, 500, 1000, 3000])
    opener, closer = rng.choice([(b"[", b"]"), (b"{a: ", b"}")])
    return data + b"\ndeep: " + opener * n + b"1" + closer * n + b"\n"


def deep_block(rng: random.Random, data: bytes) -> bytes:
    n = rng.choice([41, 60, 100])
    if rng.random() < 0.5:
        nested = b"".join(b"  " * i + b"k:\n" for i in range(n)) + b"  " * n + b"k: 1\n"
    else:
        nested = b"".join(b"  " * i + b"- \n" for i in range(n)) + b"  " * n + b"- 1\n"
    return data + b"\ndeep:\n" + b"\n".join(b"  " + line for line in nested.split(b"\n")) + b"\n"


def alias_bomb(rng: random.Random, data: bytes) -> bytes:
    width, depth = rng.choice([(9, 9), (10, 10), (4, 20), (2, 40), (16, 6)])
    out = [b'a0: &a0 ["lol"]']
    for i in range(1, depth):
        out.append(b"a%d: &a%d [" % (i, i) + b", ".join([b"*a%d" % (i - 1)] * width) + b"]")
    bomb = b"\n".join(out) + b"\n"
    return bomb + data if rng.random() < 0.5 else data + b"\n" + bomb


def simple_alias(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    candidates = [i for i, line in enumerate(lines) if line.rstrip().endswith(b":") and line.startswith(b"  ")]
    if not candidates:
        return data + b"\nx: &x {a: 1}\ny: *x\n"
    i = rng.choice(candidates)
    lines[i] = lines[i].rstrip() + b" &shared"
    return b"\n".join(lines) + b"\nagain: *shared\n"


def byte_flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] = rng.choice(b":-[]{}&*!|>'\"#%@`,?\n ")
    return bytes(out)


def splice(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i, j = sorted((rng.randrange(len(lines)), rng.randrange(len(lines))))
    return b"\n".join(lines[:i] + lines[j:] + lines[i:j])


def odd_document(rng: random.Random, data: bytes) -> bytes:
    return rng.choice(
        [
            b"",
            b"\n",
            b"---\n",
            b"---\n...\n",
            data + b"\n---\n" + data,
            b"- 1\n- 2\n",
            b"just words\n",
            b"42\n",
            b"null\n",
            b"[" * 3,
            b"{a: 1, a: 2}\n",
            b"? [a, b]\n: c\n",
            b"%YAML 1.1\n---\na: 1\n",
            b"!!map {a: 1}\n",
            b"a: !!str\n",
            b"'unterminated\n",
            b"a: |\n  x\n b: 2\n",
        ]
    )


def huge_scalar(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(i, b"  zz: " + b"x" * rng.choice([5_000, 20_000, 60_000]))
    return b"\n".join(lines)


MUTATORS: dict[str, Mutator] = {
    "truncate": truncate,
    "delete-line": delete_line,
    "duplicate-line": duplicate_line,
    "swap-lines": swap_lines,
    "wrong-type": wrong_type,
    "rename-key": rename_key,
    "control-byte": control_byte,
    "not-utf8": not_utf8,
    "latin1": latin1,
    "utf16": utf16,
    "bom": bom_and_fault,
    "crlf": crlf_and_fault,
    "cr": cr_only_and_fault,
    "tab": tab_indent,
    "deep-flow": deep_flow,
    "deep-block": deep_block,
    "alias-bomb": alias_bomb,
    "alias": simple_alias,
    "byte-flip": byte_flip,
    "splice": splice,
    "odd-document": odd_document,
    "huge-scalar": huge_scalar,
}


def sources() -> dict[str, list[Path]]:
    rules = ROOT / "rules"
    rule_files = [p for p in sorted(rules.rglob("*.yaml")) if p.name not in ("vocabulary.yaml", "registry.yaml")]
    return {
        "rules": rule_files,
        "scenarios": sorted((ROOT / "scenarios").rglob("*.yaml")),
        "vocabulary": [rules / "vocabulary.yaml"],
        "registry": [rules / "minnesota" / "registry.yaml"],
    }


class Judge:
    """Whether policyengine rejects a candidate, laid out as the corpus test lays it out."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.base = workdir / "base"
        self.base_rules = load_rulebase(self.base_rules_dir())

    def base_rules_dir(self) -> Path:
        target = self.base / "rules"
        if not target.exists():
            (target / "minnesota").mkdir(parents=True)
            shutil.copy(ROOT / "rules" / "vocabulary.yaml", target / "vocabulary.yaml")
            shutil.copy(ROOT / "rules" / "minnesota" / "registry.yaml", target / "minnesota" / "registry.yaml")
        return target

    def rejected(self, target: str, data: bytes) -> bool:
        case = Path(tempfile.mkdtemp(dir=self.workdir))
        try:
            place = lay_out(case, target, data)
            if target == "scenarios":
                load_scenario(place, self.base_rules)
            else:
                load_rulebase(case / "rules")
        except InputError:
            return True
        except Exception:  # a crash: keep it, the corpus test will show it
            return True
        finally:
            shutil.rmtree(case)
        return False


def lay_out(case: Path, target: str, data: bytes) -> Path:
    """Put one corpus input in place under `case`: a rules directory (rules/) and, for a scenario, x.yaml.

    The rules directory holds the bundled vocabulary and registry; a rule input is one rule file
    beside them, a vocabulary or registry input replaces that file. Returns the input's path.
    """
    rules = case / "rules"
    (rules / "minnesota").mkdir(parents=True)
    vocabulary, registry = rules / "vocabulary.yaml", rules / "minnesota" / "registry.yaml"
    shutil.copy(ROOT / "rules" / "vocabulary.yaml", vocabulary)
    shutil.copy(ROOT / "rules" / "minnesota" / "registry.yaml", registry)
    place = {
        "rules": rules / "minnesota" / "input.yaml",
        "vocabulary": vocabulary,
        "registry": registry,
        "scenarios": case / "input.yaml",
    }[target]
    place.write_bytes(data)
    return place


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20260209)
    parser.add_argument("--per-kind", type=int, default=14, help="inputs per damage kind and target (rules: 2x)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    per_target = {"rules": 2 * args.per_kind, "scenarios": args.per_kind, "vocabulary": 3, "registry": 3}
    with tempfile.TemporaryDirectory() as tmp:
        judge = Judge(Path(tmp))
        for target in TARGETS:
            shutil.rmtree(CORPUS / target, ignore_errors=True)
            (CORPUS / target).mkdir(parents=True)
        written = 0
        for target, files in sources().items():
            for kind, mutate in MUTATORS.items():
                kept, tries = 0, 0
                while kept < per_target[target] and tries < 40 * per_target[target]:
                    tries += 1
                    source = rng.choice(files)
                    data = mutate(rng, source.read_bytes())
                    if not judge.rejected(target, data):
                        continue
                    kept += 1
                    try:
                        data.decode("utf-8")
                        ext = "yaml"
                    except UnicodeDecodeError:
                        ext = "bin"
                    (CORPUS / target / f"{kind}-{kept:03d}.{ext}").write_bytes(data)
                written += kept
                print(f"{target:10} {kind:14} {kept:3} kept of {tries} drawn", flush=True)
    print(f"{written} inputs in {CORPUS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
