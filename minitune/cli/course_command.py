"""``minitune course build|grade|check``: student copies generated from the solution, graded by its tests."""
import pathlib
import sys

from ..course.markers import ASSIGNMENTS
from . import CLIError


def register(sub):
    p = sub.add_parser("course", help="build student assignment copies, grade them, check one as a student")
    csub = p.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    b = csub.add_parser("build", help="write a student copy with an assignment's (and later ones') solutions stripped")
    b.add_argument("--out", help="output folder (one sub-folder per assignment without --assignment)")
    b.add_argument("--assignment", type=int, choices=sorted(ASSIGNMENTS),
                   help="which assignment to strip (default: build all, as OUT/assignment<N>)")
    b.add_argument("--autograder", metavar="ZIP",
                   help="write a Gradescope autograder bundle for --assignment to ZIP (with or without --out)")
    b.set_defaults(func=run_build)
    g = csub.add_parser("grade", help="grade a student copy with the solution's tests and the hidden tests")
    g.add_argument("dir", nargs="?", default=".", help="the student copy (default: the current folder)")
    g.add_argument("--assignment", type=int, choices=sorted(ASSIGNMENTS),
                   help="which assignment to grade (default: the one in DIR's course_manifest.json)")
    g.add_argument("--results", metavar="FILE", help="also write Gradescope's results.json to FILE")
    g.add_argument("--timeout", type=float, default=60.0, metavar="S", help="per-test time limit in seconds (60)")
    g.set_defaults(func=run_grade)
    c = csub.add_parser("check", help="in a student copy: run the visible tests and print the score table")
    c.add_argument("dir", nargs="?", default=".", help="the student copy (default: the current folder)")
    c.add_argument("--timeout", type=float, default=60.0, metavar="S", help="per-test time limit in seconds (60)")
    c.set_defaults(func=run_check)


def run_build(args):
    from ..course.autograder import write_autograder  # loaded when the command runs: `minitune --help` stays light
    from ..course.build import build

    if not args.out and not args.autograder:
        raise CLIError("give --out DIR (student copies) and/or --autograder ZIP")
    if args.autograder and not args.assignment:
        raise CLIError("--autograder needs --assignment N")
    if args.out:
        numbers = [args.assignment] if args.assignment else sorted(ASSIGNMENTS)
        for n in numbers:
            out = pathlib.Path(args.out) if args.assignment else pathlib.Path(args.out) / f"assignment{n}"
            try:
                manifest = build(out, n)
            except FileExistsError as exc:
                raise CLIError(str(exc)) from None
            print(f"assignment {n} ({manifest['title']}): {len(manifest['tasks'])} tasks -> {out}")
    if args.autograder:
        size = write_autograder(args.autograder, args.assignment)
        print(f"autograder for assignment {args.assignment}: {args.autograder} ({size / 1e6:.1f} MB)")
    return 0


def run_grade(args):
    from ..course.check import check  # loaded when the command runs: `minitune --help` stays light
    from ..course.grade import GradeError, grade, is_student_copy, solution_root

    try:
        try:
            root = solution_root()
        except GradeError:
            root = None
        if root is None or is_student_copy(root):  # run from a student copy: no hidden tests here
            print("this is a student copy: checking with its visible tests (the instructor's grade adds hidden cases)")
            check(args.dir, timeout=args.timeout, out=sys.stdout)
            return 0
        grade(args.dir, assignment=args.assignment, results=args.results, timeout=args.timeout, out=sys.stdout,
              root=root)
    except GradeError as exc:
        raise CLIError(str(exc)) from None
    return 0


def run_check(args):
    from ..course.check import check  # loaded when the command runs: `minitune --help` stays light
    from ..course.grade import GradeError

    try:
        check(args.dir, timeout=args.timeout, out=sys.stdout)
    except GradeError as exc:
        raise CLIError(str(exc)) from None
    return 0
