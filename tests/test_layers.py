"""The package's shape, checked: no import cycles among wvzscan modules, click only in the CLI layer,
and nothing below the CLI exits the process or prints (design.md, "Layers and owners")."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "wvzscan"
CLI_LAYER = ("wvzscan.cli", "wvzscan.commands", "wvzscan.__main__")
# The terminal's progress display: the CLI hands it to the engine, which only ticks it.
TERMINAL = ("wvzscan.progress",)


def _name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _in(mod: str, layer: tuple[str, ...]) -> bool:
    return any(mod == x or mod.startswith(x + ".") for x in layer)


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (annotations only, never run)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(c for c in ast.iter_child_nodes(node) if not _type_checking_only(c))
    return out


def _resolve(target: str) -> str | None:
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def imports(mod: str) -> set[str]:
    """The wvzscan modules ``mod`` imports anywhere (lazy imports inside functions count too)."""
    path = MODULES[mod]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import module` imports the module; `from pkg import name` imports pkg.
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for n in names:
            # The root package holds __version__ and re-exports the API lazily (on attribute access):
            # every module may import it without making a circle through it.
            if n.startswith("wvzscan") and n != "wvzscan":
                r = _resolve(n)
                if r and r != mod:
                    out.add(r)
    return out


def third_party(mod: str) -> set[str]:
    tree = ast.parse(MODULES[mod].read_text(encoding="utf-8"))
    out = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
            recurse = False
            for j in range(i, len(graph[v])):
                w = graph[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e"], "f": ["d"]}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"x": ["y"], "y": []}) == []


def test_no_import_cycles() -> None:
    assert cycles({m: sorted(imports(m)) for m in MODULES}) == []


def test_click_only_in_the_cli_layer() -> None:
    offenders = sorted(m for m in MODULES if not _in(m, CLI_LAYER) and "click" in third_party(m))
    assert offenders == []


def test_nothing_below_the_cli_imports_it() -> None:
    offenders = sorted((m, i) for m in MODULES if not _in(m, CLI_LAYER) for i in imports(m) if _in(i, CLI_LAYER))
    assert offenders == []


def _exits_or_prints(mod: str) -> list[str]:
    tree = ast.parse(MODULES[mod].read_text(encoding="utf-8"))
    found = []
    for node in _nodes(tree):
        if isinstance(node, ast.Call):
            text = ast.unparse(node.func)
            if text in ("print", "sys.exit", "exit", "quit", "os._exit") or text.startswith(
                ("sys.stdout.write", "sys.stderr.write")
            ):
                found.append(f"{mod}:{node.lineno}: {text}")
    return found


def test_engine_never_exits_or_prints() -> None:
    offenders = [x for m in MODULES if not _in(m, CLI_LAYER + TERMINAL) for x in _exits_or_prints(m)]
    assert offenders == []
