"""The house rules of the code base, checked on every run (issue: "Layers that point one way").

- the layer contracts of pyproject.toml (``lint-imports``): core at the bottom,
  crawlers and processing in the middle and blind to each other, cli/ops/devtools
  on top, the DAGs importing mediamon.ops only;
- no import circle among module-level imports;
- an import inside a function says why (a ``lazy:`` comment): keeping a heavy
  dependency out of DAG parsing or CLI start-up, or not installing a Twisted reactor;
- every ``MEDIAMON_*`` variable is read in mediamon/core/settings.py and listed in the README.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from mediamon.core.settings import Settings
from tests.support.paths import REPO

PACKAGES = ("mediamon", "crawlers", "processing", "dags")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _resolve(module: str, node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _imports(tree: ast.AST, module: str, path: Path, known: set[str]) -> set[str]:
    """Project modules imported by the module-level statements of ``tree``."""
    targets: set[str] = set()
    for node in tree.body:  # type: ignore[attr-defined]
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node, path)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        targets |= {name for name in names if name in known}
    return targets - {module}


def test_layer_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def test_no_import_circle_at_module_level() -> None:
    modules = _modules()
    graph = {name: _imports(ast.parse(path.read_text()), name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in graph[name]:
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target):], target]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_every_import_inside_a_function_says_why() -> None:
    unexplained = []
    for path in _modules().values():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom) and inner.col_offset > 0:
                    here, before = lines[inner.lineno - 1], lines[inner.lineno - 2]
                    if "lazy" not in here and "lazy" not in before:
                        unexplained.append(f"{path.relative_to(REPO)}:{inner.lineno}: {here.strip()}")
    assert not unexplained, "imports inside functions without a `# lazy: why` comment:\n" + "\n".join(unexplained)


def test_mediamon_variables_are_read_in_the_settings_module_only() -> None:
    settings_module = REPO / "mediamon" / "core" / "settings.py"
    readers = []
    for path in _modules().values():
        if path == settings_module:
            continue
        text = path.read_text()
        if re.search(r"(os\.environ|getenv)[^\n]*MEDIAMON_", text):
            readers.append(str(path.relative_to(REPO)))
    assert not readers, f"MEDIAMON_* read outside mediamon/core/settings.py: {readers}"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [f"MEDIAMON_{field.upper()}" for field in Settings.model_fields
               if f"`MEDIAMON_{field.upper()}`" not in readme]
    assert not missing, f"settings missing from the README's table: {missing}"
