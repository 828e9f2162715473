"""The module graph of rust/src: print it, and fail on any import cycle.

Every `crate::…`, `super::…` and `self::…` path outside test code is an
edge from the file's module to the longest known module the path names (a
file is a module: `ledger/block.rs` is `ledger::block`, `ledger/mod.rs` is
`ledger`). Inline `#[cfg(test)] mod tests { … }` blocks and `tests.rs` files
are left out: test helpers may reach across modules without shaping the
layers. Run `python3 scripts/rust_modules.py` (`-v` prints every edge); exit
status 1 names each cycle, at file level and between the top-level folders.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "rust" / "src"
PATH = re.compile(r"\b(crate|super|self)::((?:[A-Za-z_][A-Za-z0-9_]*::)*)(\{|[A-Za-z_][A-Za-z0-9_]*)")
TEST_MOD = re.compile(r"#\[cfg\(test\)\][^{;]*?\bmod\s+\w+\s*\{")


def module_of(path: Path) -> tuple[str, ...]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts.pop()
    return tuple(parts)


def strip_tests(text: str) -> str:
    """The text without its inline test modules (brace-matched)."""
    while m := TEST_MOD.search(text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        text = text[: m.start()] + text[i:]
    return text


def strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def group_items(text: str, start: int) -> list[str]:
    """Leading path of each item of the `{…}` group opening at `start`."""
    depth, i = 1, start + 1
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    body, items, depth, cur = text[start + 1 : i - 1], [], 0, ""
    for ch in body + ",":
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    return [re.match(r"[A-Za-z_:0-9]*", it).group(0).rstrip(":") for it in items if it]  # type: ignore[union-attr]


def edges(modules: set[tuple[str, ...]]) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in modules}
    for file in sorted(SRC.rglob("*.rs")):
        if file.name == "tests.rs":
            continue
        me = module_of(file)
        text = strip_comments(strip_tests(file.read_text()))
        for m in PATH.finditer(text):
            root, middle, last = m.groups()
            base = {"crate": (), "super": me[:-1], "self": me}[root]
            prefix = tuple(p for p in middle.split("::") if p)
            tails = group_items(text, m.end() - 1) if last == "{" else [last]
            for tail in tails:
                full = base + prefix + tuple(p for p in tail.split("::") if p and p != "self")
                target = max((full[:k] for k in range(len(full) + 1) if full[:k] in modules), key=len)
                if target and target != me and me[: len(target)] != target:
                    graph[me].add(target)
    return graph


def cycles(graph: dict[tuple[str, ...], set[tuple[str, ...]]]) -> list[list[tuple[str, ...]]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[tuple[str, ...], int] = {}
    low: dict[tuple[str, ...], int] = {}
    stack: list[tuple[str, ...]] = []
    out: list[list[tuple[str, ...]]] = []

    def visit(v: tuple[str, ...]) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    modules = {module_of(f) for f in SRC.rglob("*.rs") if f.name != "tests.rs"}
    graph = edges(modules)
    top: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for a, targets in graph.items():
        for b in targets:
            if a[:1] != b[:1]:
                top.setdefault(a[:1], set()).add(b[:1])
    name = "::".join
    if "-v" in sys.argv:
        for a in sorted(graph):
            print(f"{name(a) or 'crate'} -> {', '.join(sorted(name(b) for b in graph[a]))}")
    for a in sorted(top):
        print(f"{name(a)}/ uses {', '.join(sorted(name(b) + '/' for b in top[a]))}")
    found = cycles(graph) + cycles(top)
    for comp in found:
        print("cycle: " + " <-> ".join(name(m) for m in comp), file=sys.stderr)
    print(f"{len(modules)} modules, {sum(map(len, graph.values()))} edges, {len(found)} cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
