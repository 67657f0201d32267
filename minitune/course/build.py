"""``minitune course build``: write a student copy of the repository with one assignment stripped."""
import json
import pathlib
import shutil

from .markers import ASSIGNMENTS, find_regions, strip_regions

# Not copied into a student tree: version control, environments, caches, large weights, run outputs.
IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", ".pytest_cache", "*.egg-info", "build",
                                "dist", "runs", "*.nbi", "*.nbc", "*.pth", "resnet18-imagenet.npz")


def repository_root():
    """The checkout that holds this package (the solution), with its tests."""
    root = pathlib.Path(__file__).resolve().parents[2]
    if not (root / "tests").is_dir() or not (root / "setup.cfg").is_file():
        raise FileNotFoundError(f"minitune course needs a source checkout (with tests/ and setup.cfg); {root} is not one")
    return root


def solution_regions(root):
    """Every marked region in the package's source, by file."""
    found = {}
    for path in sorted((root / "minitune").rglob("*.py")):
        if path.parent.name == "course":  # the course tool documents the markers; it has no regions
            continue
        regions = find_regions(path)
        if regions:
            found[path] = regions
    return found


def build(out, assignment, root=None):
    """Copy ``root`` to ``out`` and strip the regions of ``assignment``; returns the manifest."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment}; expected one of {sorted(ASSIGNMENTS)}")
    root = pathlib.Path(root) if root else repository_root()
    out = pathlib.Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"output folder {out} exists and is not empty")
    shutil.copytree(root, out, ignore=IGNORE, dirs_exist_ok=True)
    tasks = []
    for path, regions in solution_regions(root).items():
        mine = [r for r in regions if r.assignment == assignment]
        if not mine:
            continue
        rel = path.relative_to(root)
        text = path.read_text(encoding="utf-8")
        (out / rel).write_text(strip_regions(text, regions, assignment), encoding="utf-8")
        tasks += [{"file": str(rel), "function": r.function, "line": r.begin, "task": r.what} for r in mine]
    layer, title = ASSIGNMENTS[assignment]
    manifest = {"assignment": assignment, "layer": layer, "title": title, "tasks": tasks,
                "grade": f"minitune course grade {out}", "tests": f"python -m pytest -m {layer}"}
    (out / "course_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    lines = [f"# Assignment {assignment}: {title}", "",
             f"Implement the functions below; each one raises `NotImplementedError` until you do. "
             f"Your tests: `python -m pytest -m {layer}`. Your score: `minitune course grade .`.", ""]
    lines += [f"- `{t['file']}` line {t['line']}, `{t['function']}`: {t['task']}" for t in tasks]
    (out / "ASSIGNMENT.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest
