#!/usr/bin/env python3
"""Checks that the crate's top-level modules form layers: no import cycles between them.

Usage: tools/check_layers.py [SRC_DIR] (default: the repository's src/). Maps each src/**/*.rs
file but lib.rs and main.rs to its top-level module (src/foo.rs, src/foo/... -> foo) and collects
every `crate::NAME` in code: `use` lines, grouped `use crate::{a::x, b::y}` over several lines,
inline paths; comments and string literals are ignored. Exits 1 printing each cycle with an
example file:line per edge. Then checks lib.rs's "# Layout" list (`//! - [`name`]: ...` lines):
every module listed once, each using only modules listed above it; exits 1 on a mismatch, else
prints the modules in dependency order (lowest first) and exits 0.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

Edge = tuple[str, str]
MAX_CYCLES = 200
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CRATE_PATH = re.compile(r"(?<![A-Za-z0-9_$])crate\s*::\s*")
RAW_STRING = re.compile(r'(?<![A-Za-z0-9_])b?r(#*)"')
CHAR_LITERAL = re.compile(r"'(\\.[^']*|[^'\\])'")


def strip_code(text: str) -> str:
    """Blanks comments and string/char literals, keeping newlines so offsets map to lines."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        j = i + 1
        if text.startswith("//", i):
            j = n if (end := text.find("\n", i)) < 0 else end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                step = {"/*": 1, "*/": -1}.get(text[j : j + 2], 0)
                depth, j = depth + step, j + (2 if step else 1)
        elif m := RAW_STRING.match(text, i):
            j = n if (end := text.find('"' + m.group(1), m.end())) < 0 else end + 1 + len(m.group(1))
        elif text[i] == '"':
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
        elif not (m := CHAR_LITERAL.match(text, i)):  # a lifetime ('a) has no closing quote
            i = j
            continue
        else:
            j = m.end()
        out[i:j] = [ch if ch == "\n" else " " for ch in text[i:j]]
        i = j
    return "".join(out)


def group_heads(code: str, start: int) -> list[tuple[str, int]]:
    """First path segment of each item of the `{...}` group opening at `start`, with its offset."""
    heads: list[tuple[str, int]] = []
    depth, item = 0, start + 1
    for j in range(start, len(code)):
        ch = code[j]
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if (ch == "," and depth == 1) or depth == 0:
            if (m := IDENT.search(code, item, j)) and m.group() != "self":
                heads.append((m.group(), m.start()))
            item = j + 1
            if depth == 0:
                break
    return heads


def references(code: str) -> list[tuple[str, int]]:
    """(module name, offset) of every `crate::NAME`, grouped forms expanded."""
    refs: list[tuple[str, int]] = []
    for m in CRATE_PATH.finditer(code):
        if code[m.end() : m.end() + 1] == "{":
            refs.extend(group_heads(code, m.end()))
        elif ident := IDENT.match(code, m.end()):
            refs.append((ident.group(), ident.start()))
    return refs


def module_of(path: Path, src: Path) -> str | None:
    rel = path.relative_to(src).parts
    return None if rel in (("lib.rs",), ("main.rs",)) or rel[0] == "bin" else rel[0].removesuffix(".rs")


def build_graph(src: Path) -> tuple[set[str], dict[Edge, str]]:
    """Top-level modules and the edges between them (user -> used), each with one example."""
    files = sorted(p for p in src.rglob("*.rs") if p.is_file())
    modules = {m for p in files if (m := module_of(p, src))}
    edges: dict[Edge, str] = {}
    for path in files:
        if (user := module_of(path, src)) is None:
            continue
        code = strip_code(path.read_text(encoding="utf-8"))
        for used, offset in references(code):
            if used != user and used in modules:
                where = f"{path.relative_to(src.parent)}:{code.count(chr(10), 0, offset) + 1}"
                edges.setdefault((user, used), where)
    return modules, edges


def find_cycles(modules: set[str], edges: dict[Edge, str]) -> list[list[str]]:
    """Elementary cycles, each starting at its smallest module (at most MAX_CYCLES)."""
    succ = {m: sorted(b for (a, b) in edges if a == m) for m in modules}
    cycles: list[list[str]] = []

    def walk(start: str, path: list[str]) -> None:
        for nxt in succ[path[-1]]:
            if len(cycles) >= MAX_CYCLES:
                return
            if nxt == start:
                cycles.append(path + [start])
            elif nxt > start and nxt not in path:
                walk(start, path + [nxt])

    for start in sorted(modules):
        walk(start, [start])
    return cycles


def layer_order(modules: set[str], edges: dict[Edge, str]) -> list[str]:
    """Topological order with every module after the modules it uses (acyclic graph only)."""
    order: list[str] = []
    pending = set(modules)
    while pending:
        ready = sorted(m for m in pending if not any(a == m and b in pending for (a, b) in edges))
        ready = ready or sorted(pending)  # only if a cycle is left: list the rest as is
        order.extend(ready)
        pending.difference_update(ready)
    return order


LAYOUT_ITEM = re.compile(r"^//! - \[`([a-z_]+)`\]", re.M)


def layout_problems(lib_rs: Path, modules: set[str], edges: dict[Edge, str]) -> list[str]:
    """What is wrong with lib.rs's Layout list against the real modules and edges."""
    listed = LAYOUT_ITEM.findall(lib_rs.read_text(encoding="utf-8")) if lib_rs.is_file() else []
    problems = [f"{m} is not in lib.rs's Layout" for m in sorted(modules - set(listed))]
    problems += [f"{m} is listed in lib.rs's Layout but is no module" for m in sorted(set(listed) - modules)]
    problems += [f"{m} is listed twice in lib.rs's Layout" for m in sorted({m for m in listed if listed.count(m) > 1})]
    rank = {m: i for i, m in enumerate(listed)}
    for (a, b), where in sorted(edges.items()):
        if a in rank and b in rank and rank[b] > rank[a]:
            problems.append(f"{a} uses {b} ({where}) but lib.rs's Layout lists {b} below {a}")
    return problems


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "src"
    modules, edges = build_graph(src)
    if cycles := find_cycles(modules, edges):
        more = " (stopped there)" if len(cycles) >= MAX_CYCLES else ""
        print(f"check_layers: {len(cycles)} import cycle(s){more} between top-level modules of {src}:")
        for cycle in cycles:
            print("  " + " -> ".join(cycle))
            for a, b in zip(cycle, cycle[1:]):
                print(f"      {a} -> {b}: {edges[(a, b)]}")
        return 1
    if problems := layout_problems(src / "lib.rs", modules, edges):
        print(f"check_layers: lib.rs's Layout does not match {src}:")
        print("\n".join("  " + p for p in problems))
        return 1
    print("check_layers: no cycles, lib.rs's Layout is in dependency order; modules, lowest layer first:")
    print("  " + " ".join(layer_order(modules, edges)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
