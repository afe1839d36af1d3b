"""The engine's imports follow the data flow (docs/architecture.md): floors from the foundation up to the
command line, imports only sideways within a floor's package or down, no loops, no stage reaching up to the
pipeline or the top-level CLI, and an import inside a function only with a one-line reason (start-up)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"

# The floors, lowest first (docs/architecture.md). A module's floor is its package's (engine/<package>/...)
# or, for a top-level module, its own; every `cli.py` sits on the CLI floor whatever its package.
FLOORS: dict[str, int] = {
    "engine": 0, "engine.errors": 0, "engine.hashing": 0, "engine.protocol": 0, "engine.config": 0,
    "engine.arguments": 0,
    "engine.media": 1, "engine.rig": 1,
    "engine.export": 2,
    "engine.track": 3,
    "engine.solve": 4, "engine.audio": 4,
    "engine.models": 5, "engine.blendshapes": 5,
    "engine.preview": 6,
    "engine.pipeline": 7,
    "engine.demo": 8, "engine.live": 8, "engine.scale": 8,
}
CLI_FLOOR = 9          # engine/<package>/cli.py: a stage's command line
TOP_FLOOR = 10         # engine/cli.py (registers the stage CLIs) and engine/__main__.py
STAGE_LIMIT = FLOORS["engine.pipeline"]   # modules below this floor are stages: they never import upward


@dataclass(frozen=True)
class Import:
    source: str        # the importing module
    target: str        # the imported engine module
    line: int
    in_function: bool
    reason: str        # the comment on the import's line or the line above (empty: none)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def engine_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


def floor(module: str) -> int:
    if module in ("engine.cli", "engine.__main__"):
        return TOP_FLOOR
    if module.endswith(".cli"):
        return CLI_FLOOR
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in FLOORS:
            return FLOORS[name]
    raise AssertionError(f"{module} has no floor: add its package to FLOORS and docs/architecture.md")


def resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The engine module an import names (`from engine.x import y` may name the module engine.x.y)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(sub) for sub in ast.walk(node) if sub is not node)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        for name in names:
            target = resolve(name, modules) if name.startswith("engine") else None
            if target is None or target == module:
                continue
            found.append(Import(module, target, node.lineno, id(node) in nested, reason_for(lines, node.lineno)))
    return sorted(set(found), key=lambda i: (i.line, i.target))


def reason_for(lines: list[str], line: int) -> str:
    """The comment that explains an import: on its own line, or on the line above the block of imports (blank
    lines between groups included) it stands in."""
    own = lines[line - 1].partition("#")[2].strip()
    if own:
        return own
    above = line - 2
    while above >= 0 and (not lines[above].strip() or lines[above].strip().startswith(("from ", "import "))):
        above -= 1
    text = lines[above].strip() if above >= 0 else ""
    return text[1:].strip() if text.startswith("#") else ""


def all_imports() -> list[Import]:
    modules = engine_modules()
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]


def test_every_module_has_a_floor():
    for module in engine_modules():
        floor(module)


def test_imports_run_downward_only():
    upward = [f"{i.source}:{i.line} -> {i.target}" for i in all_imports()
              if floor(i.target) > floor(i.source) and not i.source.startswith(i.target + ".")]
    assert not upward, "imports that point up a floor:\n" + "\n".join(upward)


def test_no_stage_imports_the_pipeline_or_the_command_line():
    reaching = [f"{i.source}:{i.line} -> {i.target}" for i in all_imports()
                if floor(i.source) < STAGE_LIMIT and (floor(i.target) >= CLI_FLOOR or i.target.startswith("engine.pipeline"))]
    assert not reaching, "\n".join(reaching)


def test_only_the_command_line_imports_a_cli_module():
    wrong = [f"{i.source}:{i.line} -> {i.target}" for i in all_imports()
             if floor(i.target) >= CLI_FLOOR and floor(i.source) < CLI_FLOOR]
    assert not wrong, "\n".join(wrong)


def test_no_import_loops():
    graph: dict[str, set[str]] = {}
    for i in all_imports():
        graph.setdefault(i.source, set()).add(i.target)
    loops = strongly_connected(graph)
    assert not loops, "import loops:\n" + "\n".join(" <-> ".join(sorted(loop)) for loop in loops)


def test_imports_inside_functions_say_why():
    silent = [f"{i.source}:{i.line} -> {i.target}" for i in all_imports() if i.in_function and not i.reason]
    assert not silent, ("imports inside functions need a one-line reason (a comment on the line or above; "
                        "they are only for keeping start-up light):\n" + "\n".join(silent))


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the components of more than one module (the loops)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                loops.append(component)

    for node in list(graph):
        if node not in index:
            visit(node)
    return loops


def test_the_checks_catch_a_loop_and_an_upward_import():
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]
    assert floor("engine.solve.solver") < floor("engine.pipeline.stages") < floor("engine.scale.cli") < floor("engine.cli")
