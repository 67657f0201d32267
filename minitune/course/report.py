"""The grade table, one line per failing case, and Gradescope's ``results.json``."""
import re

from .markers import ASSIGNMENTS

MAX_FAILURE_LINES = 40


def _fmt(x):
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _count(result, kind):
    passed, total = result.count(kind)
    return f"{passed}/{total}" if total else "-"


def table(task_results):
    """One row per task: cases passed, points, gradcheck and hidden counts."""
    width = max([len("task")] + [len(r.name) for r in task_results]) + 2
    lines = [f"{'task':<{width}}{'passed':>9}{'points':>13}{'gradcheck':>11}{'hidden':>9}"]
    for r in task_results:
        lines.append(f"{r.name:<{width}}{f'{r.passed}/{r.total}':>9}{f'{_fmt(round(r.score, 2))}/{_fmt(r.points)}':>13}"
                     f"{_count(r, 'gradcheck'):>11}{_count(r, 'hidden case'):>9}")
    score, points = sum(r.score for r in task_results), sum(r.points for r in task_results)
    lines.append(f"{'total':<{width}}{'':>9}{f'{_fmt(round(score, 2))}/{_fmt(points)}':>13}")
    return lines


def case_name(nodeid):
    """``test_file.py::test_name[params]`` without the folders."""
    path, _, rest = nodeid.partition("::")
    return f"{path.rsplit('/', 1)[-1]}::{rest}"


def parameters(nodeid):
    """The case's parameters as written in its id: ``sgd, momentum=0.9, eps=1e-08`` for ``[sgd-momentum=0.9-eps=1e-08]``."""
    m = re.search(r"\[(.*)\]$", nodeid)
    if not m:
        return ""
    parts = re.split(r"-(?=[A-Za-z_])", m[1])  # not inside 1e-08 or =-1
    return ", ".join(parts)


def failure_line(task, nodeid, case):
    """One line: task, the check that disagreed, the case and its parameters, the worst element."""
    text = f"{task}: {case['kind']} {case_name(nodeid)}"
    params = parameters(nodeid)
    if params:
        text += f" ({params})"
    worst = case.get("worst")
    if worst:
        where = ",".join(map(str, worst["index"]))
        text += f": worst element [{where}] expected {worst['expected']:.9g}, got {worst['got']:.9g}"
    elif case["message"]:
        text += f": {case['message']}"
    return text


def failure_lines(task_results):
    lines = []
    for r in task_results:
        if r.problem:
            lines.append(f"{r.name}: 0 points: {r.problem}")
            continue
        failing = {n: c for n, c in r.cases.items() if c["outcome"] != "passed"}
        messages = {c["message"] for c in failing.values() if not c.get("worst")}
        if len(failing) > 3 and len(messages) == 1 and not any(c.get("worst") for c in failing.values()):
            lines.append(f"{r.name}: all {len(failing)} failing cases: {messages.pop()}")
            continue
        lines += [failure_line(r.name, nodeid, case) for nodeid, case in failing.items()]
    return lines


def print_report(assignment, task_results, notes, out, hidden):
    layer, title = ASSIGNMENTS[assignment]
    source = "the solution's tests and the instructor's hidden cases" if hidden else (
        "the visible tests of this copy; the instructor's grade adds hidden cases")
    print(f"Assignment {assignment} ({layer}): {title}", file=out)
    print(f"graded with {source}", file=out)
    for line in table(task_results):
        print(line, file=out)
    failing = failure_lines(task_results)
    if failing:
        print(f"\nfailing cases ({len(failing)}):", file=out)
        for line in failing[:MAX_FAILURE_LINES]:
            print(f"  {line}", file=out)
        if len(failing) > MAX_FAILURE_LINES:
            print(f"  ... and {len(failing) - MAX_FAILURE_LINES} more", file=out)
    for note in notes:
        print(f"note: {note}", file=out)


def results_json(assignment, task_results, notes):
    """Gradescope's results format: ``score`` and one ``tests`` entry per task."""
    tests = []
    for r in task_results:
        failing = failure_lines([r])
        output = f"{r.passed}/{r.total} cases passed"
        gp, gt = r.count("gradcheck")
        hp, ht = r.count("hidden case")
        if gt:
            output += f"; gradcheck {gp}/{gt}"
        if ht:
            output += f"; hidden cases {hp}/{ht}"
        if failing:
            output += "\n" + "\n".join(failing[:MAX_FAILURE_LINES])
        tests.append({"name": r.name, "score": round(r.score, 4), "max_score": r.points,
                      "status": "passed" if r.total and r.passed == r.total and not r.problem else "failed",
                      "output": output})
    summary = "\n".join(table(task_results) + [f"note: {n}" for n in notes])
    return {"score": round(sum(r.score for r in task_results), 4), "output": summary,
            "stdout_visibility": "visible", "tests": tests}
