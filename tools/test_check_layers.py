#!/usr/bin/env python3
"""Tests of tools/check_layers.py on tiny fake crates in a temporary directory.

Run with `python3 -m pytest tools/test_check_layers.py` or, without pytest,
`python3 tools/test_check_layers.py`.
"""
from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_layers  # noqa: E402

CYCLIC = {
    "lib.rs": "pub mod a;\npub mod b;\npub mod c;\nuse crate::a::X;\n",
    "a.rs": "use crate::b::Y;\npub struct X;\n",
    "b/mod.rs": "mod inner;\nuse crate::{\n    c::Z,\n    a::X,\n};\npub struct Y;\n",
    "b/inner.rs": "use super::Y;\n",
    "c.rs": "pub struct Z;\n",
}

ACYCLIC = {
    "lib.rs": "//! # Layout\n//! - [`c`]: lowest.\n//! - [`b`]: uses c.\n//! - [`a`]: uses both.\npub mod a;\n",
    "main.rs": "use mocapd::a;\nfn main() { crate::a::run(); }\n",
    "a.rs": "pub fn run() {\n    crate::b::f(crate::c::Z);\n}\n",
    "b/mod.rs": "use crate::{\n    self as _,\n    c::{Z, W},\n};\npub fn f(_: Z) {}\n",
    "b/inner.rs": (
        "// not a use: crate::a::run()\n/// nor this: [`crate::a`]\n/* nor crate::a /* nested */ crate::a */\n"
        "const S: &str = \"crate::a\";\nconst R: &str = r#\"crate::a \"quoted\"\"#;\n"
        "fn g<'a>(x: &'a str) -> char { let _ = x; '\"' }\nconst T: &str = \"after crate::a\";\n"
    ),
    "c.rs": "//! Lowest layer; its docs mention crate::a and crate::b.\npub struct Z;\npub struct W;\n",
}


def make_tree(root: Path, files: dict[str, str]) -> Path:
    src = root / "src"
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return src


def run_main(src: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = check_layers.main(["check_layers.py", str(src)])
    return rc, out.getvalue()


def test_cycle_fails_with_example_edges() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = make_tree(Path(tmp), CYCLIC)
        modules, edges = check_layers.build_graph(src)
        assert modules == {"a", "b", "c"}
        assert edges == {("a", "b"): "src/a.rs:1", ("b", "c"): "src/b/mod.rs:3", ("b", "a"): "src/b/mod.rs:4"}
        rc, out = run_main(src)
    assert rc == 1, out
    assert "a -> b -> a" in out, out
    assert "a -> b: src/a.rs:1" in out and "b -> a: src/b/mod.rs:4" in out, out
    assert "c ->" not in out, out


def test_acyclic_passes_in_dependency_order() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = make_tree(Path(tmp), ACYCLIC)
        modules, edges = check_layers.build_graph(src)
        assert modules == {"a", "b", "c"}
        # Comments, doc comments and strings in b/inner.rs and c.rs name crate::a: no edge to a.
        assert set(edges) == {("a", "b"), ("a", "c"), ("b", "c")}, edges
        assert edges[("b", "c")] == "src/b/mod.rs:3"
        rc, out = run_main(src)
    assert rc == 0, out
    assert out.splitlines()[-1].split() == ["c", "b", "a"], out


def test_layout_out_of_order_or_incomplete_fails() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wrong = dict(ACYCLIC, **{"lib.rs": "//! - [`b`]: x\n//! - [`c`]: y\n//! - [`zz`]: z\n"})
        rc, out = run_main(make_tree(Path(tmp), wrong))
    assert rc == 1, out
    assert "a is not in lib.rs's Layout" in out, out
    assert "zz is listed in lib.rs's Layout but is no module" in out, out
    assert "b uses c (src/b/mod.rs:3) but lib.rs's Layout lists c below b" in out, out


def test_strip_code_keeps_lines_and_code() -> None:
    text = "a // crate::x\n/* crate::y\n */ b \"crate::z\\\"\" 'c' &'s x\n"
    code = check_layers.strip_code(text)
    assert code.count("\n") == text.count("\n")
    assert len(code) == len(text)
    assert "crate" not in code
    assert code.split() == ["a", "b", "&'s", "x"]


def test_real_tree_runs() -> None:
    src = Path(__file__).resolve().parent.parent / "src"
    if src.is_dir():
        rc, out = run_main(src)
        assert rc in (0, 1) and out.startswith("check_layers:"), out


if __name__ == "__main__":
    tests: list[Callable[[], None]] = [f for name, f in sorted(globals().items()) if name.startswith("test_")]
    for test in tests:
        test()
        print(f"ok {test.__name__}")
    print(f"{len(tests)} passed")
