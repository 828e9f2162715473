"""Check that python/gridledger has no import cycle at module level (issue 18).

Builds the graph of module-level imports (``import x``, ``from x import y``,
relative imports; ``if TYPE_CHECKING:`` blocks and imports inside functions
are left out, as they do not run when a module is imported) and searches it
for strongly connected components (Tarjan). ``from pkg import sub`` counts as
a dependency on ``pkg.sub`` only. Exits 1 and prints every cycle found.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "python"


def graph() -> dict[str, set[str]]:
    files: dict[str, Path | None] = {}
    for p in ROOT.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        files[name.removesuffix(".__init__")] = p
    files["gridledger._core"] = None  # the native module
    edges: dict[str, set[str]] = {m: set() for m in files}
    for m, p in files.items():
        if p is None:
            continue
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.parse(p.read_text(encoding="utf-8")).body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files]
                targets = subs if len(subs) == len(node.names) else [base, *subs]
            edges[m].update(t for t in targets if t in files and t != m)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    edges = graph()
    found = cycles(edges)
    imports = sum(map(len, edges.values()))
    print(f"python/gridledger: {len(edges)} modules, {imports} imports, {len(found)} cycles")
    for c in found:
        print("  cycle: " + " -> ".join(c))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
