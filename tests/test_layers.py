"""Layers point one way, read from the source: ingest <- index <- search <- web.

``ingest`` (documents: extract, clean, structure, chunk; Vietnamese text) is
imported by ``index`` (embedders, storage, the write pipeline), which is
imported by ``search`` (query plan, retrieval, answers, the engine), which is
imported by ``web``. Only the CLI entry module (``policy_search.cli``) may import all
of them, and nothing imports it. The evaluation harnesses (``evaluation``) stand
beside the runtime: they may import ``ingest``, ``index`` and ``search``, and
only the CLI entry module imports them. Function-local imports count like any other,
so one cannot hide a cycle or an upward import; settings reach lower layers as
values, which the direction rule enforces (``policy_search.settings`` is above
``index``).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYERS = ("ingest", "index", "search", "web")
TOP = "policy_search"
ENTRY = "policy_search.cli"
# The settings read the environment once for every layer above index; below it they pass as values.
SETTINGS = "policy_search.settings"
# Harnesses sit beside the runtime: below them ingest, index and search; above, nothing.
SIDE = {"evaluation": "search"}


def _modules() -> dict[str, Path]:
    out = {}
    for package in (*LAYERS, *SIDE, TOP):
        # Subpackages too (search/answers/): a layer is its whole folder.
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _target(name: str) -> str | None:
    """The project module an import of ``name`` loads (``index.store.Snapshot`` -> index.store)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    local: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local.update(id(n) for n in ast.walk(node) if n is not node)
    package = module if path.stem == "__init__" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # ``from index import store`` imports the module index.store.
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            target = _target(name)
            if target is not None and target != module:
                found.append((target, node.lineno, id(node) in local))
    return sorted(set(found))


GRAPH = {m: _imports(m) for m in MODULES}


def _layer(module: str) -> float:
    if module == SETTINGS:
        return LAYERS.index("index") + 0.5
    if module == ENTRY:
        return len(LAYERS)
    if module == TOP:
        return LAYERS.index("ingest") - 1  # an empty package marker: anyone may import it
    package = module.split(".")[0]
    return LAYERS.index(SIDE.get(package, package))


def test_the_layers_are_read_from_the_real_packages() -> None:
    # The test is only as good as its reading: these imports exist today.
    assert ("index.store", True) in {(t, True) for t, _, _ in GRAPH["index.build"]}
    assert any(t == "policy_search.settings" for t, _, _ in GRAPH["web.security"])
    assert any(t == "index.e5convert" for t, _, _ in GRAPH[SETTINGS])
    assert any(t == "search.answers.kit" for t, _, _ in GRAPH["search.answers.tasks"])
    assert len(MODULES) > 40


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{MODULES[m].relative_to(REPO)}:{line} imports {t}{' (in a function)' if inner else ''}"
        for m, edges in GRAPH.items()
        if m != ENTRY
        for t, line, inner in edges
        if _layer(t) > _layer(m)
    ]
    assert not upward, "imports against the layers ingest <- index <- search <- web:\n" + (
        "\n".join(upward)
    )


def test_only_the_cli_entry_module_imports_the_evaluation_harnesses() -> None:
    assert {"evaluation.assignments", "evaluation.answers", "evaluation.retrieval"} <= {
        t for t, _, _ in GRAPH[ENTRY]
    }
    importers = [
        f"{m} imports {t}"
        for m, edges in GRAPH.items()
        if m != ENTRY and not m.startswith("evaluation")
        for t, _, _ in edges
        if t.startswith("evaluation")
    ]
    assert importers == []


def test_the_evaluation_harnesses_import_no_web_module() -> None:
    reached = [
        f"{m} imports {t}"
        for m, edges in GRAPH.items()
        if m.startswith("evaluation")
        for t, _, _ in edges
        if t.startswith("web")
    ]
    assert reached == []


def test_nothing_imports_the_cli_entry_module() -> None:
    importers = [m for m, edges in GRAPH.items() if any(t == ENTRY for t, _, _ in edges)]
    assert importers == []


def test_no_import_cycles_not_even_through_function_local_imports() -> None:
    # Tarjan's strongly connected components over every import, local ones included.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for t, _, _ in GRAPH[m]:
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in on_stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == m:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for m in GRAPH:
        if m not in index:
            visit(m)
    assert cycles == [], f"import cycles: {cycles}"


def test_readme_states_the_order() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "`ingest` ← `index` ← `search` ← `web`" in readme


def test_the_runtime_package_holds_no_evaluation_harness() -> None:
    # The harnesses moved out of search/ (issue 22): a module left behind, or one added
    # back, would put evaluation code in what `serve` loads.
    assert not {"search.eval", "search.answer_eval", "search.header_eval"} & set(MODULES)
    assert {"evaluation.retrieval", "evaluation.answers", "evaluation.headers"} <= set(MODULES)
