"""The shape of the code: the direction of imports between apps, no import circles, no oversized modules.

Apps import only downwards: ``demo`` → ``reports``, ``dashboards`` → ``subsidies`` → ``projects`` →
``escrow`` → ``core`` (an app may import any app below it, never one beside or above it). ``anxinbao``
(settings, URLs, the Celery application) is wiring and may import anything. Imports inside functions
count; test modules do not. Module-level imports between modules never form a circle (imports under
``if TYPE_CHECKING:`` are not run and do not count).

What a failure reads like (``test_the_checks_catch_a_forbidden_import_and_a_circle`` builds this tree):

    core/x.py imports escrow.y: core may import only core
    import circle: escrow.a → escrow.b → escrow.a
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

# The higher the number, the higher the layer; an app may import its own layer's app only if it is itself.
LAYERS = {"core": 0, "escrow": 1, "projects": 2, "subsidies": 3, "reports": 4, "dashboards": 4, "demo": 5}
WIRING = "anxinbao"
MAX_LINES = 400

# Known exceptions, each to be removed by the work that ends it; all empty now, and a test fails on an entry
# that is no longer true. Imports against the direction ("module imports app"):
ALLOWED_IMPORTS: set[str] = set()
# Import circles, each as the set of its modules:
ALLOWED_CIRCLES: set[frozenset[str]] = set()
# Modules over MAX_LINES:
ALLOWED_LONG: set[str] = set()


# -- reading the tree ---------------------------------------------------------
def _app_files(root: Path, apps) -> list[Path]:
    return sorted(p for app in apps for p in (root / app).rglob("*.py")
                  if "tests" not in p.relative_to(root).parts and (root / app).is_dir())


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name of ``from <node.module> import …`` written in ``module``."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST, module: str, is_package: bool, *, module_level: bool, known: set[str]) -> set[str]:
    """Names of the modules imported. ``module_level``: only what runs on import (not in functions, not under
    ``if TYPE_CHECKING``). ``from a import b`` names ``a.b`` when that is a module of the tree."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if module_level and (isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                                 or _is_type_checking(child)):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, is_package, child)
                for alias in child.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
            visit(child)

    visit(tree)
    return found


def _parse(root: Path, apps) -> dict[str, tuple[Path, ast.AST]]:
    return {_module_name(root, p): (p, ast.parse(p.read_text(encoding="utf-8"))) for p in _app_files(root, apps)}


# -- the checks ---------------------------------------------------------------
def direction_violations(root: Path, layers: dict[str, int] = LAYERS) -> list[str]:
    """Every import of an app beside or above the importing one, in any function or at module level."""
    modules = _parse(root, layers)
    out = []
    for name, (path, tree) in modules.items():
        app = name.split(".")[0]
        for target in sorted(_imports(tree, name, path.name == "__init__.py", module_level=False,
                                      known=set(modules))):
            other = target.split(".")[0]
            if other == app or other not in layers or layers[other] < layers[app]:
                continue
            below = sorted(a for a, rank in layers.items() if rank < layers[app])
            may = ", ".join([app, *below])
            out.append(f"{path.relative_to(root).as_posix()} imports {target}: {app} may import only {may}")
    return out


def import_circles(root: Path, apps=(*LAYERS, WIRING)) -> list[list[str]]:
    """The import circles between modules (module-level imports), each from its smallest module back to it."""
    modules = _parse(root, apps)
    graph = {name: sorted(t for t in _imports(tree, name, path.name == "__init__.py", module_level=True,
                                               known=set(modules)) if t in modules and t != name)
             for name, (path, tree) in modules.items()}
    # Tarjan's strongly connected components; each component of more than one module holds a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return [_a_circle(graph, component) for component in components]


def _a_circle(graph: dict[str, list[str]], component: set[str]) -> list[str]:
    """One path inside the component from its smallest module back to itself (breadth first: a shortest one)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in graph[v]:
            if w == start:
                return [*paths[v], start]
            if w in component and w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(component)  # a strongly connected component always closes


def circle_message(circle: list[str]) -> str:
    return "import circle: " + " → ".join(circle)


def long_modules(root: Path, apps=(*LAYERS, WIRING), limit: int = MAX_LINES) -> dict[str, int]:
    """Application modules over ``limit`` lines (tests and migrations aside; benchmarks live outside the apps)."""
    out = {}
    for path in _app_files(root, apps):
        rel = path.relative_to(root)
        if "migrations" in rel.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            out[rel.as_posix()] = lines
    return out


# -- the tests ----------------------------------------------------------------
ROOT = Path(settings.BASE_DIR)


def test_apps_import_only_downwards():
    offenders = [v for v in direction_violations(ROOT) if v.split(":")[0] not in ALLOWED_IMPORTS]
    assert offenders == [], ("imports against the direction demo → reports, dashboards → subsidies → projects → "
                             "escrow → core (register a hook in the lower app instead):\n" + "\n".join(offenders))


def test_no_import_circles():
    circles = [c for c in import_circles(ROOT) if frozenset(c) not in ALLOWED_CIRCLES]
    assert circles == [], "\n".join(map(circle_message, circles))


def test_no_application_module_is_over_400_lines():
    long = {path: n for path, n in long_modules(ROOT).items() if path not in ALLOWED_LONG}
    assert long == {}, f"modules over {MAX_LINES} lines (split them by what they do): {long}"


def test_the_allow_lists_hold_only_what_is_still_there():
    """An entry goes when its file is fixed, so an allow-list never hides a new offence."""
    assert ALLOWED_LONG <= set(long_modules(ROOT))
    assert ALLOWED_IMPORTS <= {v.split(":")[0] for v in direction_violations(ROOT)}
    assert ALLOWED_CIRCLES <= {frozenset(c) for c in import_circles(ROOT)}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_catch_a_forbidden_import_and_a_circle(tmp_path):
    """The module docstring's example: core imports escrow inside a function; escrow.a and escrow.b import
    each other. Imports under TYPE_CHECKING, in tests and downwards pass."""
    _write(tmp_path, {
        "core/__init__.py": "",
        "core/x.py": "def f():\n    from escrow.y import z\n    return z\n",
        "core/tests/test_x.py": "import projects.models\n",
        "escrow/__init__.py": "",
        "escrow/y.py": "import core.x\nz = 1\n",
        "escrow/a.py": "from . import b\n",
        "escrow/b.py": "from escrow import a\n",
        "escrow/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from escrow import d\n",
        "escrow/d.py": "from escrow import c\n\n\ndef g():\n    from escrow import y\n",
    })
    assert direction_violations(tmp_path) == ["core/x.py imports escrow.y: core may import only core"]
    assert [circle_message(c) for c in import_circles(tmp_path)] == ["import circle: escrow.a → escrow.b → escrow.a"]
    # Fixed, the same tree passes.
    _write(tmp_path, {"core/x.py": "def f():\n    return 1\n", "escrow/b.py": "x = 1\n"})
    assert direction_violations(tmp_path) == [] and import_circles(tmp_path) == []


def test_the_size_check_counts_lines(tmp_path):
    _write(tmp_path, {"core/big.py": "x = 1\n" * (MAX_LINES + 1), "core/ok.py": "x = 1\n" * MAX_LINES,
                      "core/migrations/0001_initial.py": "x = 1\n" * 999, "core/tests/test_big.py": "x = 1\n" * 999})
    assert long_modules(tmp_path) == {"core/big.py": MAX_LINES + 1}


def test_escrow_code_imports_no_app_above_it():
    """The ledger stays readable on its own: escrow knows nothing of the workflow built on it."""
    offenders = [v for v in direction_violations(ROOT) if v.startswith("escrow/")]
    assert offenders == [], f"escrow must not import these apps (register a hook instead): {offenders}"


def reads_that_call_writes(root: Path, apps=LAYERS) -> list[str]:
    """Selector modules that import their own app's services or documents, even inside a function: a read that
    reaches for the writes closes a circle (reports had documents → selectors → services → documents)."""
    modules = _parse(root, apps)
    out = []
    for name, (path, tree) in modules.items():
        if "selectors" not in name.split("."):
            continue
        for target in sorted(_imports(tree, name, path.name == "__init__.py", module_level=False,
                                      known=set(modules))):
            same_app = target.split(".")[0] == name.split(".")[0]
            if same_app and ("services" in target.split(".") or target.split(".")[-1] == "documents"):
                out.append(f"{path.relative_to(root).as_posix()} imports {target}")
    return out


def test_selectors_import_no_services():
    assert reads_that_call_writes(ROOT) == []


def test_the_read_check_sees_an_import_inside_a_function(tmp_path):
    _write(tmp_path, {"reports/__init__.py": "", "reports/services.py": "",
                      "reports/selectors.py": "def report_for():\n    from .services import x\n"})
    assert reads_that_call_writes(tmp_path) == ["reports/selectors.py imports reports.services"]


ENV_READ = re.compile(r"""(?:env(?:\.\w+)?\(|environ(?:\.get)?\(|environ\[|\$\{|\$)\s*["']?(ANXINBAO_[A-Z0-9_]+)""")


def environment_variables(root: Path) -> set[str]:
    """Every ANXINBAO_* environment variable the code, the scripts and the compose file read."""
    files = [*_app_files(root, (*LAYERS, WIRING)), *(root / "tests").rglob("*.py"), *(root / "bin").glob("*"),
             root / "docker-compose.yml",
             root / "conftest.py"]
    return {name for path in files if path.is_file() for name in ENV_READ.findall(path.read_text(encoding="utf-8"))}


def test_every_environment_variable_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = {name for line in readme.splitlines() if line.startswith("|")
             for name in re.findall(r"`(ANXINBAO_[A-Z0-9_]+)`", line)}
    found = environment_variables(ROOT)
    assert "ANXINBAO_CUSTODY_ACCOUNT_NUMBER" in found  # the reader sees what the settings read
    assert found - table == set(), f"add these to the README's settings table: {sorted(found - table)}"


# -- one name for the acting person ---------------------------------------------
ACTOR_ALIASES = ("by", "user")


def _service_modules(root: Path, apps=LAYERS) -> list[Path]:
    return [p for p in _app_files(root, apps)
            if p.name == "services.py" or "services" in p.relative_to(root).parts[:-1]]


def actor_aliases(root: Path, apps=LAYERS) -> list[str]:
    """Public service functions naming the person who acts anything but ``actor`` (keyword-only ``by=``/``user=``)."""
    found = []
    for path in _service_modules(root, apps):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                found += [f"{path.relative_to(root).as_posix()}: {node.name}({arg.arg}=) — the acting person is actor="
                          for arg in node.args.kwonlyargs if arg.arg in ACTOR_ALIASES]
    return found


def test_services_call_the_acting_person_actor():
    assert actor_aliases(ROOT) == []


def test_the_actor_check_reads_service_modules_only(tmp_path):
    _write(tmp_path, {"escrow/services/ops.py": "def confirm(*, operation, by):\n    pass\n\n"
                                                "def _helper(*, by):\n    pass\n",
                      "reports/services.py": "def request(*, user, kind):\n    pass\n",
                      "escrow/selectors/flows.py": "def receipts(*, by=None):\n    pass\n",
                      "projects/services/ok.py": "def start(*, actor, project):\n    pass\n"})
    assert actor_aliases(tmp_path) == [
        "escrow/services/ops.py: confirm(by=) — the acting person is actor=",
        "reports/services.py: request(user=) — the acting person is actor=",
    ]


def test_money_is_printed_by_one_formatter():
    """Amounts reach people through ``core.money.format_cny`` / ``format_amount`` only: no module of the
    application spells out its own ``:,.2f``."""
    own = [str(p.relative_to(ROOT)) for p in _app_files(ROOT, LAYERS)
           if p.relative_to(ROOT).as_posix() != "core/money.py" and ":,.2f}" in p.read_text(encoding="utf-8")]
    assert own == [], f"format money with core.money.format_cny/format_amount: {own}"
