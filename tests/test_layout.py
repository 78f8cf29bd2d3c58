"""The layout's rules, read from the code itself (``ast``): no import circle, layers that only
import downwards, one place that commits, a small top level. See README.md, "Layout"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dispatch", "imports")
FEATURES = ("admin", "callcenter", "field", "reports", "portal", "housing")
DOMAIN = ("register", "jobs")
# Where a feature's screens and handlers live: no other feature imports these.
VIEW_MODULES = ("routes", "views", "events", "api")
# The unit of work commits here; the morning mail commits each claim before sending (its
# docstring says why); the importer releases its own SAVEPOINT.
COMMITS_ALLOWED = {"dispatch/core/database.py", "dispatch/reports/morning.py"}


def _modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the project modules it imports, at the top or inside functions alike.
    ``from a import b`` counts as importing ``a.b`` when that is a module, else ``a``."""
    modules = _modules(root)

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(owner(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = name.split(".")[: len(name.split(".")) - node.level + is_package]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else owner(base))
        targets.discard(None)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "dispatch" and len(parts) > 1 else None


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_cycle_finder_names_a_circle_counting_imports_inside_functions(tmp_path):
    (tmp_path / "dispatch").mkdir()
    (tmp_path / "imports").mkdir()
    (tmp_path / "dispatch" / "__init__.py").write_text("")
    (tmp_path / "imports" / "__init__.py").write_text("")
    (tmp_path / "dispatch" / "a.py").write_text("from dispatch import b\n")
    (tmp_path / "dispatch" / "b.py").write_text("def f():\n    from dispatch.a import x\n")
    (tmp_path / "dispatch" / "c.py").write_text("import dispatch.a\n")
    assert cycles(import_graph(tmp_path)) == [["dispatch.a", "dispatch.b"]]


def test_no_import_circle_among_the_projects_modules(graph):
    assert cycles(graph) == [], "import circles: " + "; ".join(
        " ↔ ".join(group) for group in cycles(graph))


def test_core_and_models_import_only_core_and_models(graph):
    wrong = {(module, target) for module, targets in graph.items()
             if _package(module) in ("core", "models") for target in targets
             if target == "dispatch" or _package(target) not in ("core", "models")}
    assert wrong == set()


def test_domain_packages_import_no_feature_package(graph):
    wrong = {(module, target) for module, targets in graph.items()
             if _package(module) in DOMAIN for target in targets
             if _package(target) in FEATURES}
    assert wrong == set()


def test_no_feature_package_imports_another_features_views(graph):
    def is_view(module: str) -> bool:
        parts = module.split(".")
        return _package(module) in FEATURES and len(parts) > 2 and parts[2] in VIEW_MODULES

    wrong = {(module, target) for module, targets in graph.items()
             if _package(module) in FEATURES for target in targets
             if is_view(target) and _package(target) != _package(module)}
    assert wrong == set()


def test_the_app_imports_nothing_from_the_importer_but_its_entry_points(graph):
    # The register's address folding and the timestamp helper live in the app; only the
    # command line and the admin's import runner reach into imports/.
    allowed = {"dispatch.commands", "dispatch.admin.imports", "dispatch.demo"}
    wrong = {(module, target) for module, targets in graph.items()
             if module.startswith("dispatch") and module not in allowed for target in targets
             if target.startswith("imports")}
    assert wrong == set()


def test_only_the_unit_of_work_commits_or_rolls_back():
    found = []
    for path in _modules().values():
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("commit", "rollback")
                    and not (isinstance(node.func.value, ast.Name)
                             and node.func.value.id == "savepoint")
                    and relative not in COMMITS_ALLOWED):
                found.append(f"{relative}:{node.lineno}")
    assert found == []


def test_the_top_level_holds_at_most_eight_plain_modules():
    plain = sorted(p.name for p in (ROOT / "dispatch").glob("*.py"))
    assert len(plain) <= 8, plain


def test_every_package_says_what_it_holds_and_what_it_may_import():
    missing = []
    for path in _modules().values():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            if "import" not in doc.lower():
                missing.append(path.relative_to(ROOT).as_posix())
    assert missing == []
