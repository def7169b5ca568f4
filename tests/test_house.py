"""The house's plan, checked: no import circles inside mnist_dash, no import that runs back up a floor, no
runner chosen by its name, and a wheel that holds every module the app imports (DESIGN.md, "Layers")."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mnist_dash"

# The floors, lowest first: a module imports only from its own floor or below (DESIGN.md's layers).
FLOORS = (
    # what a design is and what it becomes; text, data, weights and the notebook's own arithmetic
    {"mnist_dash", "text", "threads", "owners", "spec", "plan", "presets", "data", "model", "weights", "units"}
    | {"canvas", "share", "codegen", "observations", "evaluation", "sound"},
    {"runs"},  # the run store
    {"predict", "keras_export", "jobs"},  # a stored run's network, its Keras model (a child's), a job's life
    {"classroom"},  # the teacher, the rules, the challenge, the board
    {"plots", "descriptions"},  # figures of all of the above, and the same in words
    {"folder_store", "cli", "__main__"},  # the command line and what only it runs
    {"ui"},  # the only Streamlit-aware part
)


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(known: dict[str, Path]) -> dict[str, set[str]]:
    """Each module's imports of mnist_dash's modules, at its top and inside its functions alike."""

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            for target in targets:
                if target.startswith("mnist_dash") and (found := resolve(target)) not in (None, name):
                    edges[name].add(found)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import graph's strongly connected parts of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                part.append(other)
                if other == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def floor(module: str) -> int:
    top = module.split(".")[1] if "." in module else "mnist_dash"
    return next(number for number, names in enumerate(FLOORS) if top in names)


def test_there_is_no_import_circle_inside_mnist_dash():
    assert circles(imports(modules())) == []


def test_the_circle_finder_finds_one():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_module_is_on_a_floor_and_no_import_runs_back_up():
    edges = imports(modules())
    upward = [
        f"{source} -> {target}"
        for source, targets in edges.items()
        for target in targets
        if floor(target) > floor(source)
    ]
    assert upward == []


def test_no_module_chooses_what_to_do_by_a_runners_name():
    pattern = re.compile(r"runner ==|runner !=|app_runner\(\) [!=]=|\.name == \"(thread|process|ray)\"")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in PACKAGE.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel `pip install .` would install, built from a copy of the project (setuptools writes its build
    folders beside the sources) with this environment's setuptools, without the network."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "mnist_dash", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("mnist_dash-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_the_wheel_holds_every_module_of_the_package(wheel):
    shipped = {name for name in wheel.namelist() if name.startswith("mnist_dash/") and name.endswith(".py")}
    expected = {str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")}
    assert expected - shipped == set()
    for needed in ("mnist_dash/jobs/runners/process_child.py", "mnist_dash/runs/store.py", "mnist_dash/ui/state.py"):
        assert needed in shipped


def test_every_module_the_app_imports_is_in_the_wheel(wheel):
    """What the pages and the entry script import from mnist_dash, each one shipped."""
    shipped = {name for name in wheel.namelist() if name.endswith(".py")}
    known = modules()
    scripts = [ROOT / "streamlit_app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
    needed = set()
    for script in scripts:
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mnist_dash"):
                needed |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
                needed.add(node.module)
    assert needed and all(str(known[name].relative_to(ROOT)) in shipped for name in needed)


def test_without_chromium_the_test_command_runs_the_rest_and_ends_failed_with_how_to_get_one(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "MNIST_DASH_REQUIRE_POSTGRES"} | {
        "MNIST_DASH_CHROMIUM": str(tmp_path / "no-chromium"),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "tests/browser/test_screens.py",
            "tests/test_text.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-2000:]
    assert re.search(r"\d+ passed, \d+ deselected in ", out) and " error" not in out  # the non-browser half ran
    assert "The browser tests did not run: they need Chromium. Install Debian's package" in out
