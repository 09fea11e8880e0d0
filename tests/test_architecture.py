"""The house's layers, checked from the imports themselves: each module imports only its own
layer and those below (cli → demo → app → web → service_layer → storage → integrations →
core), with no circle between modules, and `integrations` knows only the core's domain types."""

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [
    ("plugin.core", 0),
    ("integrations", 1),
    ("plugin.storage", 2),
    ("plugin.service_layer", 3),
    ("plugin.web", 4),
    ("plugin.resources", 0),
    ("plugin.bootstrap", 5), ("plugin.config", 5),
    ("plugin.appkit", 5),
    ("plugin", 6),
    ("plugin.demo", 7),
    ("plugin.cli", 8),
]
"""Longest prefix wins: `plugin` itself is `create_app`; `plugin.config` and the app-package
validator `plugin.appkit` sit with the composition root; `plugin.resources` (where the bundled
templates and package lie) imports nothing and serves every layer."""
PURE = ("flask", "sqlalchemy", "requests", "huey", "zenpy", "jinja2", "werkzeug", "redis")


def modules() -> dict[str, Path]:
    found = {}
    for package in ("plugin", "integrations"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts and "versions" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def layer(module: str) -> int:
    best = max((prefix for prefix, _ in LAYERS
                if module == prefix or module.startswith(prefix + ".")), key=len)
    return dict(LAYERS)[best]


def imports(path: Path, module: str) -> set[str]:
    """Every module of the project that `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{module}: relative import")
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                # `from package import module` imports that module (and runs the package's
                # __init__ first, which any import inside the package does anyway).
                found.add(submodule if submodule in KNOWN else node.module or "")
    return {name for name in found if name in KNOWN and name != module}


KNOWN = modules()
GRAPH = {module: imports(path, module) for module, path in modules().items()}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_module_imports_only_its_layer_and_below(module):
    upward = sorted(name for name in GRAPH[module] if layer(name) > layer(module))
    assert not upward, f"{module} (layer {layer(module)}) imports a higher layer: {upward}"


def test_integrations_know_only_the_cores_domain_types():
    reaching = {(module, name) for module, names in GRAPH.items()
                if module.startswith("integrations") for name in names
                if name.startswith("plugin") and not name.startswith("plugin.core.domain")}
    assert not reaching


def test_the_core_imports_no_io_library():
    for module, path in modules().items():
        if not module.startswith("plugin.core"):
            continue
        tree = ast.parse(path.read_text())
        roots = {alias.name.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.Import) for alias in node.names}
        roots |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom)}
        assert not roots & set(PURE), (module, roots & set(PURE))


def test_no_module_imports_another_modules_private_names():
    private = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    ("plugin", "integrations")):
                private += [(module, node.module, a.name) for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert not private


def test_no_import_circle_between_modules():
    state: dict[str, int] = defaultdict(int)
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for name in GRAPH.get(module, ()):
            if state[name] == 1:
                raise AssertionError(" → ".join(path[path.index(name):] + [name]))
            if state[name] == 0:
                visit(name)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if state[module] == 0:
            visit(module)


def test_importing_the_command_line_leaves_prometheus_for_serve_to_set_up():
    """`serve` points prometheus_client at its multiprocess folder before the library's first
    import; importing the commands must not import it already."""
    found = subprocess.run([sys.executable, "-c", "import sys, plugin.cli; "
                            "print('prometheus_client' in sys.modules)"],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    assert found.stdout.strip() == "False"
