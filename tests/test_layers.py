"""The package's folders are its layers: a module imports only from its own layer or the ones below, and no
two modules import each other, directly or round a circle (lazy imports inside functions count too)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wmcourse"
# lowest first: a module may import from its own layer and from every layer listed before it
LAYERS = [("core",), ("real",), ("worldmodels", "baselines"), ("dreamer",), ("shipped",), ("experiments",),
          ("lessons",), ("cli",)]
ENTRY_POINT = "wmcourse.__main__"  # `python -m wmcourse`: the one module that starts from the top


def _floor(module: str) -> int:
    parts = module.split(".")
    folder = parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else "core"
    return next(i for i, names in enumerate(LAYERS) if folder in names)


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """{module: the wmcourse modules it imports}, read from the source (every import, lazy ones too)."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _name(path)
        package = me if path.name == "__init__.py" else me.rpartition(".")[0]
        graph[me] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("wmcourse"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                is_module = (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists()
                graph[me].add(candidate if is_module else target)
    return graph


def test_every_module_lives_in_a_known_layer():
    for module in import_graph():
        _floor(module)  # raises StopIteration for a folder missing from LAYERS


def test_imports_point_down_or_sideways_only():
    upward = [f"{m} imports {t}" for m, targets in import_graph().items() if m != ENTRY_POINT
              for t in targets if t != "wmcourse" and _floor(t) > _floor(m)]
    assert not upward, "imports from a higher layer: " + "; ".join(upward)


def test_no_import_cycle():
    graph = {m: {t for t in ts if t in import_graph_nodes} for m, ts in import_graph().items()}
    seen, stack, cycles = set(), [], []

    def visit(module: str) -> None:
        if module in stack:
            cycles.append(" -> ".join(stack[stack.index(module):] + [module]))
            return
        if module in seen:
            return
        seen.add(module)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            visit(target)
        stack.pop()

    for module in sorted(graph):
        visit(module)
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_the_layer_test_catches_an_upward_import():
    assert _floor("wmcourse.experiments.tau_sweep") > _floor("wmcourse.worldmodels.dream") > _floor("wmcourse.errors")
    assert _floor("wmcourse.lessons.plots") > _floor("wmcourse.experiments.tau_sweep")


import_graph_nodes = set(import_graph())
