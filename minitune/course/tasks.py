"""Tasks: one marked function of the solution, found from the ``# BEGIN SOLUTION An: …`` markers.

A task is identified by its file and the function (``Class.method``) enclosing its region(s), never
by line numbers, so it survives code moving around.  Its name is ``"A4 SGD.step"``, its pytest
marker ``a4_sgd_step``.  A marker may give the task's points at the end of its text,
``# BEGIN SOLUTION A4: implement SGD.step (…) [20 points]``; the default is ``DEFAULT_POINTS``.
"""
import pathlib
import re
from dataclasses import dataclass, field

from .markers import ASSIGNMENTS, find_regions

DEFAULT_POINTS = 10.0
POINTS = re.compile(r"\s*\[(\d+(?:\.\d+)?) points?\]\s*$")


@dataclass
class Task:
    assignment: int
    file: str  # relative to the repository root, with forward slashes
    function: str  # qualified name of the enclosing function, e.g. "SGD.step"
    what: str  # the first region's text, without points
    points: float = DEFAULT_POINTS
    lines: list = field(default_factory=list)  # BEGIN marker lines (1-based) in the solution

    @property
    def name(self):
        return f"A{self.assignment} {self.function}"

    @property
    def marker(self):
        return task_marker(self.assignment, self.function)

    @property
    def module(self):
        return self.file[:-3].replace("/", ".")

    @property
    def layer(self):
        return ASSIGNMENTS[self.assignment][0]


def task_marker(assignment, function):
    """``a4_sgd_step`` for (4, "SGD.step"); ``a2_conv2d_forward_fast`` for (2, "_conv2d_forward_fast")."""
    words = [w.strip("_").lower() for w in function.split(".")]
    return f"a{assignment}_" + "_".join(w for w in words if w)


def source_files(root):
    """The package's source files that may hold regions (the course tool itself documents markers)."""
    root = pathlib.Path(root)
    for path in sorted((root / "minitune").rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[:2] == ("minitune", "course"):
            continue
        yield path


def find_tasks(root):
    """Every task of the solution in ``root``, in file order; one per enclosing function."""
    root = pathlib.Path(root)
    tasks = {}
    for path in source_files(root):
        for r in find_regions(path):
            rel = path.relative_to(root).as_posix()
            key = (r.assignment, rel, r.function)
            if key not in tasks:
                m = POINTS.search(r.what)
                what = POINTS.sub("", r.what)
                tasks[key] = Task(r.assignment, rel, r.function, what, float(m[1]) if m else DEFAULT_POINTS)
            tasks[key].lines.append(r.begin)
    return list(tasks.values())
