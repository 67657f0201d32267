"""The layer chart in README.md is true: every import statement in ``minitune/`` (at the top of a
file or inside a function, absolute or relative) goes to a lower layer, each package imports
exactly what its chart row says, each sits as low as its imports allow, and ``import
minitune.autograd`` loads nothing above autograd, even when a kernel or optimizer file is broken.

When the code changes, a failure prints the chart the code implies, ready for README.md."""
import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

PACKAGE = ROOT / "minitune"


# ---- the chart ------------------------------------------------------------------------------------

def read_chart(readme=ROOT / "README.md"):
    """{package: (layer, imported packages)} from the chart under "The library, layer by layer"."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("## The library, layer by layer", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    chart = {}
    for line in block.splitlines()[1:]:  # the first line is the column header
        layer, package, imports = re.fullmatch(r"\s*(\d+)\s+(\S+)\s+(.+?)\s*", line).groups()
        chart[package] = (int(layer), set() if imports == "-" else set(imports.split(", ")))
    return chart


def chart_package(module, chart):
    """The chart row of a dotted module name: its longest package prefix (``nn.functional.conv`` →
    ``nn.functional``); the package's own ``__init__`` is ``minitune``; ``__main__`` runs the cli."""
    if module == "minitune":
        return "minitune"
    name = module[len("minitune."):]
    if name == "__main__":
        return "cli"
    matches = [p for p in chart if p != "minitune" and (name == p or name.startswith(p + "."))]
    return max(matches, key=len) if matches else None


# ---- the import walker ----------------------------------------------------------------------------

def module_files(package_dir):
    """{dotted module name: path} for every .py file under ``package_dir`` (``minitune.nn.module``).
    Test files shipped inside the package (``test_*.py``, ``conftest.py``) are not a layer: a test
    imports whatever it tests, and nothing imports it."""
    files = {}
    for path in sorted(package_dir.rglob("*.py")):
        if path.name.startswith("test_") or path.name == "conftest.py":
            continue
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def imports(package_dir):
    """(path, line, importing module, imported module, inside a function) for every import of a
    ``minitune`` module.  ``from X import name`` imports the module ``X.name`` when there is one
    (``from .. import functional``), else ``X``; relative imports resolve against the package."""
    files = module_files(package_dir)
    found = []
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node, in_function in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for target in dict.fromkeys(targets):
                if target == "minitune" or target.startswith("minitune."):
                    found.append((path, node.lineno, module, target, in_function))
    return found


def _import_nodes(tree, in_function=False):
    """(Import or ImportFrom node, whether it sits inside a function) for a whole syntax tree."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, in_function
        yield from _import_nodes(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))


def upward_imports(package_dir, chart):
    """One line per import that goes to the importer's own layer (another package) or higher."""
    problems = []
    for path, line, module, target, _ in imports(package_dir):
        source, dest = chart_package(module, chart), chart_package(target, chart)
        if source == dest or source is None or dest is None:  # (off the chart: another test says so)
            continue
        (low, _), (high, _) = chart[source], chart[dest]
        if high >= low:
            where = path.relative_to(package_dir.parent)
            problems.append(f"{where}:{line}: {source} (layer {low}) imports {target} ({dest}, layer {high})")
    return problems


def package_imports(package_dir, packages):
    """{package: {imported package: "file:line" of its first import}} for the given row names, plus
    a row for every top-level module or package that is on none of them."""
    rows = list(packages)
    for module in module_files(package_dir):
        if chart_package(module, rows) is None:
            rows.append(module.split(".")[1])
    found = {row: {} for row in rows}
    for path, line, module, target, _ in imports(package_dir):
        source, dest = chart_package(module, rows), chart_package(target, rows)
        if source != dest:
            found[source].setdefault(dest, f"{path.relative_to(package_dir.parent)}:{line}")
    return found


def chart_from_code(package_dir, packages):
    """The chart block the code implies, in README's format: each package on the lowest layer its
    imports allow (1 + the highest layer it imports from, 0 when it imports nothing)."""
    found = package_imports(package_dir, packages)
    layers = {}

    def layer(row, path=()):
        if row in path:
            raise AssertionError(f"an import cycle between packages: {' → '.join(path + (row,))}")
        if row not in layers:
            layers[row] = 1 + max((layer(dest, path + (row,)) for dest in found[row]), default=-1)
        return layers[row]

    rows = sorted(found, key=lambda row: -layer(row))  # stable: README's order within a layer
    lines = ["layer  package        imports from"]
    for row in rows:
        imported = sorted(found[row], key=lambda dest: (-layer(dest), list(found).index(dest)))
        lines.append(f"  {layer(row)}    {row:<14} {', '.join(imported) or '-'}")
    return "\n".join(lines) + "\n"


def _with_the_true_chart(message):
    return f"{message}\n\nThe chart the code implies (for README.md):\n{chart_from_code(PACKAGE, read_chart())}"


# ---- the tests ------------------------------------------------------------------------------------

def test_no_layer_imports_its_own_layer_or_above():
    problems = upward_imports(PACKAGE, read_chart())
    assert not problems, "a layer imports only from lower layers:\n" + "\n".join(problems)


def test_every_module_is_on_the_chart():
    chart = read_chart()
    off_chart = [m for m in module_files(PACKAGE) if chart_package(m, chart) is None]
    assert not off_chart, _with_the_true_chart(f"modules on no row of README's layer chart: {off_chart}")


def test_each_row_lists_what_its_package_imports():
    chart = read_chart()
    found = package_imports(PACKAGE, chart)
    for package, (_, listed) in chart.items():
        unlisted = {dest: where for dest, where in found[package].items() if dest not in listed}
        assert not unlisted, _with_the_true_chart(f"README's chart: {package} also imports {unlisted}")
        gone = sorted(listed - set(found[package]))
        assert not gone, _with_the_true_chart(f"README's chart: {package} no longer imports {gone}")


def test_each_package_sits_as_low_as_its_imports_allow():
    """README's chart block is exactly the one the code implies: rows, layers and import lists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert chart_from_code(PACKAGE, read_chart()) in readme, _with_the_true_chart("README's chart is out of date.")


def test_the_walker_sees_imports_in_functions_and_relative_ones(tmp_path):
    # A kernel that imports nn (relatively, inside a function) and optim (absolutely, at the top).
    kernels = tmp_path / "minitune" / "kernels"
    kernels.mkdir(parents=True)
    for package in ("minitune", "minitune/kernels", "minitune/nn", "minitune/optim"):
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    (kernels / "bad.py").write_text(textwrap.dedent("""\
        import numpy as np
        from minitune.optim import sgd


        def f():
            from ..nn import module
            return module
        """))
    (tmp_path / "minitune" / "optim" / "sgd.py").write_text("")
    problems = upward_imports(tmp_path / "minitune", read_chart())
    assert problems == ["minitune/kernels/bad.py:2: kernels (layer 0) imports minitune.optim.sgd (optim, layer 2)",
                        "minitune/kernels/bad.py:6: kernels (layer 0) imports minitune.nn (nn, layer 3)"]


def _is_minitune_import(node):
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "minitune"
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] == "minitune" for a in node.names)


def test_every_minitune_import_inside_a_function_says_why():
    """A comment on the import, on the line above it, or on a line of the run of imports it is in."""
    silent = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for run in _runs_of_imports(function):
                text = lines[run[0].lineno - 2:run[-1].end_lineno]
                if any(map(_is_minitune_import, run)) and not any("#" in line for line in text):
                    silent.append(f"{path.relative_to(ROOT)}:{run[0].lineno}")
    assert not silent, "imports inside functions without a comment saying why:\n" + "\n".join(dict.fromkeys(silent))


def _runs_of_imports(function):
    """The maximal runs of consecutive import statements in ``function``, in any block (if, try, …)."""
    runs = []
    for node in ast.walk(function):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):  # a lambda's or an if-expression's body is an expression
                continue
            run = []
            for stmt in block + [None]:
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    run.append(stmt)
                elif run:
                    runs.append(run)
                    run = []
    return runs


def _loaded_after(statement, pythonpath):
    """The minitune modules and the numba/Pillow packages loaded by ``statement`` in a fresh interpreter."""
    code = (f"import sys\n{statement}\n"
            "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('minitune', 'numba', 'PIL')))")
    env = dict(os.environ, PYTHONPATH=str(pythonpath), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-c", code], cwd=pythonpath, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def _below(package, chart):
    """``package`` and everything it imports, directly or not, by the chart."""
    seen, todo = set(), [package]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += chart[name][1]
    return seen


@pytest.mark.parametrize("package", ["autograd", "optim", "metrics", "nn", "models"])
def test_importing_a_layer_loads_nothing_above_it(package):
    # Importing any minitune module runs minitune/__init__.py first, so the namespace comes along.
    chart = read_chart()
    allowed = _below(package, chart) | _below("minitune", chart)
    loaded = _loaded_after(f"import minitune.{package}", ROOT)
    above = [m for m in loaded if m.startswith("minitune") and chart_package(m, chart) not in allowed]
    assert not above, f"import minitune.{package} loads {above}"
    assert ("numba" in loaded) == ("kernels" in allowed)
    assert "PIL" not in loaded


def test_the_command_line_loads_its_layers_only_when_a_command_runs():
    chart = read_chart()
    loaded = _loaded_after("import minitune.cli\nminitune.cli.build_parser()", ROOT)
    layers = {chart_package(m, chart) for m in loaded if m.startswith("minitune")}
    assert layers == {"minitune", "autograd", "random", "cli", "course", "io"}
    assert not [m for m in loaded if m.split(".")[0] in ("numba", "PIL")]


@pytest.mark.parametrize("broken", ["kernels/conv2d.py", "optim/sgd.py"])
def test_a_broken_kernel_or_optimizer_does_not_break_autograd(tmp_path, broken):
    shutil.copytree(PACKAGE, tmp_path / "minitune", ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "minitune" / broken, "a", encoding="utf-8") as f:
        f.write("\ndef half_written(:\n")
    loaded = _loaded_after("import minitune, minitune.autograd\n"
                           f"assert minitune.__file__.startswith({str(tmp_path)!r})\n"
                           "x = minitune.tensor([1.0, 2.0], dtype=minitune.float64, requires_grad=True)\n"
                           "(x * x).sum().backward()\n"
                           "assert x.grad.tolist() == [2.0, 4.0]\n"
                           "assert minitune.gradcheck(lambda a: a.tanh(), (x,))", tmp_path)
    assert "minitune.autograd.tensor" in loaded
    broken_package = "minitune." + broken.split("/")[0]
    with pytest.raises(AssertionError, match="SyntaxError"):  # the broken copy is the one imported
        _loaded_after(f"import {broken_package}", tmp_path)
