"""``minitune course build|grade``: student copies generated from the solution, graded by the tests."""
import sys

from ..course.build import build
from ..course.grade import grade
from ..course.markers import ASSIGNMENTS


def register(sub):
    p = sub.add_parser("course", help="build student assignment copies and grade them")
    csub = p.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    b = csub.add_parser("build", help="write a student copy with an assignment's solution regions stripped")
    b.add_argument("--out", required=True, help="output folder (one sub-folder per assignment without --assignment)")
    b.add_argument("--assignment", type=int, choices=sorted(ASSIGNMENTS),
                   help="which assignment to strip (default: build all, as OUT/assignment<N>)")
    b.set_defaults(func=run_build)
    g = csub.add_parser("grade", help="run a student copy's tests and print a score table")
    g.add_argument("dir", nargs="?", default=".", help="the student copy (default: the current folder)")
    g.set_defaults(func=run_grade)


def run_build(args):
    import pathlib

    numbers = [args.assignment] if args.assignment else sorted(ASSIGNMENTS)
    for n in numbers:
        out = pathlib.Path(args.out) if args.assignment else pathlib.Path(args.out) / f"assignment{n}"
        manifest = build(out, n)
        print(f"assignment {n} ({manifest['title']}): {len(manifest['tasks'])} functions to implement -> {out}")
    return 0


def run_grade(args):
    return 0 if grade(args.dir, out=sys.stdout) else 1
