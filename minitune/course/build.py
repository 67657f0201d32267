"""``minitune course build``: a complete student copy of the repository with assignment N and later ones stripped.

The copy holds everything the tests and notebooks need (the package, tests and all their torch
fixtures, notebooks without outputs, tools, README), and not: version control, caches, run outputs,
downloaded weights, the course tool's hidden tests and wrong-variant data, the course tool's own tests.
Regions of assignment N and of every later one raise ``NotImplementedError``; earlier assignments stay
solved, since later ones build on them.  ``tests/course_tasks.json`` gives each task's tests a pytest
marker (``pytest -m a4_sgd_step``); ``ASSIGNMENT.md`` is the student's sheet.
"""
import json
import pathlib
import re
import shutil

from .markers import ASSIGNMENTS, find_regions, strip_regions
from .taskmap import task_map
from .tasks import find_tasks, source_files

# Not copied: version control, environments, caches, run outputs, downloaded weights, instructor-only files.
IGNORED_NAMES = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", "build", "dist",
                 "runs", "notebook_outputs", ".benchmarks"}
IGNORED_SUFFIXES = (".pyc", ".nbi", ".nbc", ".egg-info")
INSTRUCTOR_ONLY = ("minitune/course/hidden", "minitune/course/variants")

# Notebooks that explain each assignment when no notebook names the task's class or function.
NOTEBOOKS = {1: ["01_autograd"], 2: ["02_convolution_and_batchnorm"], 3: ["03_loss_and_optimizers", "04_resnet18_and_weights"],
             4: ["03_loss_and_optimizers"], 5: ["05_finetuning"]}
SETUP = """## Set up

    python -m venv .venv && . .venv/bin/activate
    pip install -e '.[test]'
    python -m pytest -q -m {marker}        # all the tests of this assignment (they fail until you write the code)
    python -m minitune course check        # your score table on the visible tests
"""


def repository_root():
    """The checkout that holds this package (the solution), with its tests."""
    root = pathlib.Path(__file__).resolve().parents[2]
    if not (root / "tests").is_dir() or not (root / "setup.cfg").is_file():
        raise FileNotFoundError(f"minitune course needs a source checkout (with tests/ and setup.cfg); {root} is not one")
    return root


def solution_regions(root):
    """Every marked region in the package's source, by file."""
    found = {}
    for path in source_files(root):
        regions = find_regions(path)
        if regions:
            found[path] = regions
    return found


def _ignore(root, stripped=()):
    root = pathlib.Path(root)

    def ignore(folder, names):
        rel = pathlib.Path(folder).relative_to(root).as_posix()
        skipped = set()
        for name in names:
            path = f"{rel}/{name}" if rel != "." else name
            if name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES) or path in INSTRUCTOR_ONLY:
                skipped.add(name)

            elif rel == "tests" and name.startswith("test_course"):
                skipped.add(name)  # the course tool's own tests use the instructor-only files
            elif rel == "weights" and name.endswith((".npz", ".pth", ".pt")):
                skipped.add(name)  # downloaded weights (tests/reference fixtures are copied)
        return skipped

    return ignore


def _clear_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _notebooks(root, task):
    """Notebooks that name the task's class (or function), else the assignment's notebooks."""
    word = task.function.split(".")[0].strip("_")
    word = re.sub(r"_(reference|fast|twin|numba)$", "", word)
    found = [p.stem for p in sorted((root / "notebooks").glob("*.ipynb"))
             if re.search(rf"\b{re.escape(word)}\b", p.read_text(encoding="utf-8"))]
    return found or NOTEBOOKS.get(task.assignment, [])


def student_task_map(mapping, tasks):
    """``tests/course_tasks.json``: markers of the assignment's tasks and the visible tests of each."""
    by_name = {t.name: t for t in tasks}
    tests = {}
    for nodeid, entry in mapping["tests"].items():
        if entry["kind"] == "hidden case":
            continue
        tests[nodeid] = {"tasks": entry["tasks"], "kind": entry["kind"],
                         "markers": [by_name[n].marker for n in entry["tasks"] if n in by_name]}
    return {"assignment": mapping["assignment"],
            "tasks": [{"name": t.name, "marker": t.marker, "points": t.points, "file": t.file} for t in tasks],
            "markers": {t.marker: f"{t.name}: {t.what}" for t in tasks}, "tests": tests}


def build(out, assignment, root=None, later=True, tests_map=True):
    """Write the student copy of ``assignment`` to ``out``; returns the manifest.

    ``later``: also strip every later assignment (the default, so no later solution ships).
    ``tests_map``: find each task's tests (one traced run of the layer's tests, cached) for the per-task
    markers and ``course check``; the course tests that only inspect copies skip it."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment}; expected one of {sorted(ASSIGNMENTS)}")
    root = pathlib.Path(root).resolve() if root else repository_root()
    out = pathlib.Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"output folder {out} exists and is not empty")
    stripped = [n for n in ASSIGNMENTS if n == assignment or (later and n > assignment)]
    tasks = [t for t in find_tasks(root) if t.assignment == assignment]
    mapping = task_map(root, assignment) if tests_map else {"assignment": assignment, "tests": {}}
    shutil.copytree(root, out, ignore=_ignore(root, stripped), dirs_exist_ok=True)
    for path in sorted(out.glob("notebooks/*.ipynb")):
        _clear_outputs(path)
    lines_in_copy = {}
    for path, regions in solution_regions(root).items():
        if not any(r.assignment in stripped for r in regions):
            continue
        rel = path.relative_to(root).as_posix()
        text = strip_regions(path.read_text(encoding="utf-8"), regions, stripped)
        (out / rel).write_text(text, encoding="utf-8")
        for r in find_regions(out / rel, text):
            lines_in_copy.setdefault((r.assignment, r.function), r.begin + 1)  # the line that raises
    (out / "tests" / "course_tasks.json").write_text(json.dumps(student_task_map(mapping, tasks), indent=1) + "\n",
                                                     encoding="utf-8")
    layer, title = ASSIGNMENTS[assignment]
    entries = [{"task": t.name, "marker": t.marker, "points": t.points, "file": t.file, "function": t.function,
                "line": lines_in_copy.get((assignment, t.function)), "what": t.what,
                "notebooks": _notebooks(root, t),
                "tests": sum(t.name in e["tasks"] for e in mapping["tests"].values() if e["kind"] != "hidden case")}
               for t in tasks]
    manifest = {"assignment": assignment, "layer": layer, "title": title, "stripped": stripped, "tasks": entries,
                "grade": f"minitune course grade {out}", "check": "python -m minitune course check",
                "tests": f"python -m pytest -m {layer}"}
    (out / "course_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (out / "ASSIGNMENT.md").write_text(assignment_sheet(manifest), encoding="utf-8")
    return manifest


def assignment_sheet(manifest):
    """The student's ``ASSIGNMENT.md``."""
    n, layer, title = manifest["assignment"], manifest["layer"], manifest["title"]
    later = [a for a in manifest["stripped"] if a > n]
    earlier = [a for a in ASSIGNMENTS if a < n]
    lines = [f"# Assignment {n}: {title}", ""]
    lines += [f"Write the functions below; each raises `NotImplementedError` until you do, and the marker comments "
              f"`# BEGIN SOLUTION A{n}` / `# END SOLUTION` around it must stay where they are (the grader finds your "
              f"code between them). Keep your code for a task inside its file.", ""]
    if earlier:
        lines.append(f"Assignment{'s' if len(earlier) > 1 else ''} {', '.join(map(str, earlier))} {'are' if len(earlier) > 1 else 'is'} solved in this copy: this one builds on them.")
    if later:
        lines.append(f"Assignment{'s' if len(later) > 1 else ''} {', '.join(map(str, later))} come{'' if len(later) > 1 else 's'} later and are stripped too: their functions "
                     f"raise `NotImplementedError` as well, and tests that need them fail; they are not part of "
                     f"this assignment's grade.")
    lines += ["", SETUP.format(marker=layer), "## Tasks", ""]
    for t in manifest["tasks"]:
        where = f"{t['file']}:{t['line']}" if t["line"] else t["file"]
        lines += [f"### {t['task']} ({t['points']:g} points)", "",
                  f"- what: {t['what']}",
                  f"- where: `{where}`, in `{t['function']}` (its docstring and the module's state the formula)",
                  f"- explained in: {', '.join(f'`notebooks/{nb}.ipynb`' for nb in t['notebooks'])}",
                  f"- test it: `python -m pytest -q -m {t['marker']}` ({t['tests']} visible tests)", ""]
    lines += ["## How it is graded", "",
              "Each task's score is the fraction of its test cases that pass times its points. The instructor runs "
              "the original tests (your copy of `tests/` is not used, so editing or skipping tests changes nothing) "
              "plus hidden cases for the classic mistakes. Every test has a time limit (60 s by default): a function "
              "that hangs fails its cases. A file that does not compile or import gives 0 to its tasks.",
              "",
              "Comparisons allow for rounding: float64 results must agree to about 1e-10 relative, float32 ones to a "
              "few units in the last place, scaled by the number of steps. Write the formula with plain numpy in the "
              "parameter's dtype: no fused multiply-add (the solution's `fused.fma`) is needed for full marks, and "
              "hyperparameters reach your code as Python floats.", ""]
    return "\n".join(lines)
