"""Find and strip the ``# BEGIN SOLUTION An: …`` / ``# END SOLUTION`` regions."""
import ast
import re
from dataclasses import dataclass

# Assignments are numbered by layer; the pytest marker of each layer grades it.
ASSIGNMENTS = {
    1: ("autograd", "the backward of elementwise ops and of matmul"),
    2: ("kernels", "conv2d and batch norm, forward and backward (numpy twin and numba kernel)"),
    3: ("nn", "cross-entropy with its fused gradient, and the ResNet-18 BasicBlock"),
    4: ("optim", "the SGD and Adam update steps"),
    5: ("finetune", "the fine-tuning loop's epoch"),
}

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION A(?P<n>\d+): (?P<what>\S.*?)\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")


class MarkerError(ValueError):
    """A BEGIN without END, an END without BEGIN, nesting, or an unknown assignment."""


@dataclass
class Region:
    path: str
    assignment: int
    what: str
    begin: int  # 1-based line of the BEGIN marker
    end: int  # 1-based line of the END marker
    indent: str
    function: str = ""

    @property
    def replacement(self):
        message = f"Assignment {self.assignment}: {self.what}"
        return f'{self.indent}raise NotImplementedError({message!r})\n'


def _enclosing_functions(source):
    """(first line, last line, qualified name) of every function in ``source``."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return spans


def find_regions(path, text=None):
    """Every solution region in one file, checked for well-formedness."""
    text = open(path, encoding="utf-8").read() if text is None else text
    lines = text.splitlines(keepends=True)
    regions, open_region = [], None
    for number, line in enumerate(lines, 1):
        m = BEGIN.match(line)
        if m:
            if open_region is not None:
                raise MarkerError(f"{path}:{number}: BEGIN SOLUTION inside the region opened at line {open_region.begin}")
            n = int(m["n"])
            if n not in ASSIGNMENTS:
                raise MarkerError(f"{path}:{number}: unknown assignment A{n}; expected one of {sorted(ASSIGNMENTS)}")
            open_region = Region(str(path), n, m["what"], number, 0, m["indent"])
        elif "BEGIN SOLUTION" in line and line.lstrip().startswith("#"):
            raise MarkerError(f"{path}:{number}: malformed marker; expected '# BEGIN SOLUTION A<n>: <what to implement>'")
        elif END.match(line):
            if open_region is None:
                raise MarkerError(f"{path}:{number}: END SOLUTION without a BEGIN")
            if not line.startswith(open_region.indent) or line[len(open_region.indent)] != "#":
                raise MarkerError(f"{path}:{number}: END SOLUTION is not at the indentation of its BEGIN (line {open_region.begin})")
            open_region.end = number
            regions.append(open_region)
            open_region = None
    if open_region is not None:
        raise MarkerError(f"{path}:{open_region.begin}: BEGIN SOLUTION without an END")
    if regions:
        spans = _enclosing_functions(text)
        for r in regions:
            inside = [s for s in spans if s[0] < r.begin <= s[1] + 1]
            if not inside:
                raise MarkerError(f"{path}:{r.begin}: a solution region must lie inside a function")
            r.function = max(inside, key=lambda s: s[0])[2]
    return regions


def strip_regions(text, regions, assignment):
    """``text`` with the regions of ``assignment`` (a number or several) replaced by ``raise NotImplementedError``.

    The BEGIN/END marker lines stay, so the student sees where to write and the
    solution can be put back (``restore_regions``)."""
    numbers = {assignment} if isinstance(assignment, int) else set(assignment)
    lines = text.splitlines(keepends=True)
    out, skip_until = [], 0
    chosen = {r.begin: r for r in regions if r.assignment in numbers}
    for number, line in enumerate(lines, 1):
        if number < skip_until:
            continue
        out.append(line)
        if number in chosen:
            r = chosen[number]
            out.append(r.replacement)
            out.append(lines[r.end - 1])
            skip_until = r.end + 1
    return "".join(out)


def restore_regions(student_text, solution_text, assignment):
    """Fill the stripped regions of ``student_text`` back from ``solution_text``."""
    sol_regions = [r for r in find_regions("<solution>", solution_text) if r.assignment == assignment]
    stu_lines = student_text.splitlines(keepends=True)
    sol_lines = solution_text.splitlines(keepends=True)
    stu_regions = [r for r in find_regions("<student>", student_text) if r.assignment == assignment]
    if len(stu_regions) != len(sol_regions):
        raise MarkerError("student and solution files have different solution regions")
    out, last = [], 0
    for stu, sol in zip(stu_regions, sol_regions):
        out.extend(stu_lines[last:stu.begin])
        out.extend(sol_lines[sol.begin:sol.end - 1])
        last = stu.end - 1
    out.extend(stu_lines[last:])
    return "".join(out)


def region_keys(regions):
    """``(assignment, function, k)`` for each region: the k-th region of that function, to pair files up."""
    seen, keys = {}, []
    for r in regions:
        k = seen.get((r.assignment, r.function), 0)
        seen[(r.assignment, r.function)] = k + 1
        keys.append((r.assignment, r.function, k))
    return keys


def splice_regions(student_text, solution_text, from_student):
    """``student_text`` with every region for which ``from_student(region)`` is false put back from the solution.

    Regions are paired by assignment, function and order, so code that moved keeps its region.
    Raises ``MarkerError`` when the student's file lacks a region of the solution's (markers deleted)."""
    stu_regions = find_regions("<student>", student_text)
    sol_regions = find_regions("<solution>", solution_text)
    sol_by_key = dict(zip(region_keys(sol_regions), sol_regions))
    stu_by_key = dict(zip(region_keys(stu_regions), stu_regions))
    missing = [k for k in sol_by_key if k not in stu_by_key]
    if missing:
        a, function, _ = missing[0]
        raise MarkerError(f"the markers of the A{a} region in {function} were removed")
    stu_lines = student_text.splitlines(keepends=True)
    sol_lines = solution_text.splitlines(keepends=True)
    out, last = [], 0
    for key, stu in zip(region_keys(stu_regions), stu_regions):
        sol = sol_by_key.get(key)
        if sol is None or from_student(stu):
            continue
        out.extend(stu_lines[last:stu.begin])
        out.extend(sol_lines[sol.begin:sol.end - 1])
        last = stu.end - 1
    out.extend(stu_lines[last:])
    return "".join(out)
