"""Run folders a person keeps: numbered, never overwritten silently, never left empty, sizes
said; and the finetune command's one-line errors."""
import numpy as np
import pytest

from minitune.cli import main
from minitune.finetune import FinetuneConfig
from minitune.finetune.outputs import choose_folder, describe, next_free

pytestmark = pytest.mark.finetune

TINY = ["--weights", "none", "--epochs", "1", "--image-size", "32", "--batch-size", "8", "--workers", "0",
        "--no-progress"]


@pytest.fixture
def small(monkeypatch):
    """The CLI's synthetic set, made tiny (the CLI has no flag for its size)."""
    monkeypatch.setattr(FinetuneConfig, "synthetic_train_per_class", 4)
    monkeypatch.setattr(FinetuneConfig, "synthetic_val_per_class", 2)
    monkeypatch.setattr(FinetuneConfig, "width", 4)


def test_two_default_runs_leave_two_folders(tmp_path, monkeypatch, small, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["finetune", *TINY]) == 0
    assert main(["finetune", *TINY]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["finetune", "finetune-2"]
    out = capsys.readouterr().out
    assert "wrote runs/finetune-2: " in out and "best.npz" in out and "state.npz" in out and "in all" in out
    assert next_free() == "runs/finetune-3"


def test_out_holding_a_run_is_refused_unless_overwrite(tmp_path, small, capsys):
    out = str(tmp_path / "mine")
    assert main(["finetune", *TINY, "--out", out]) == 0
    capsys.readouterr()
    assert main(["finetune", *TINY, "--out", out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a run" in err[0] and "--overwrite" in err[0]
    assert main(["finetune", *TINY, "--out", out, "--overwrite"]) == 0
    assert choose_folder(out, resume=out) == out  # continuing a run in its own folder is fine


def test_a_failed_run_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "failed"
    assert main(["finetune", "--data", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    assert main(["finetune", "--data", str(tmp_path / "nowhere"), "--out", str(existing)]) == 2
    assert existing.is_dir()  # a folder that was there before is never removed


@pytest.mark.parametrize("args, message", [
    (["--image-size", "100000"],
     "--image-size must be between 32 (ResNet-18 has 5 stride-2 stages) and 1024, got 100000"),
    (["--lr", "inf"], "--lr must be a finite number, got inf"),
    (["--lr", "nan"], "--lr must be a finite number, got nan"),
    (["--backbone-lr", "-0.1"], "--backbone-lr must be >= 0, got -0.1"),
    (["--l2sp", "1"], "expected two numbers ALPHA,BETA"),
    (["--unfreeze-every", "0"], "--unfreeze-every must be positive"),
])
def test_bad_values_are_one_line_errors(args, message, tmp_path, capsys):
    assert main(["finetune", "--out", str(tmp_path / "x"), *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # checked before anything is said (not even which weights it would start from)
    err = err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minitune: error:") and message in err[0]
    assert not (tmp_path / "x").exists()


def test_resume_from_a_state_missing_an_array_is_a_one_line_error(tmp_path, small, capsys):
    out = tmp_path / "run"
    assert main(["finetune", *TINY, "--out", str(out)]) == 0
    with np.load(out / "state.npz") as f:
        kept = {k: f[k] for k in f.files if k != "a3"}
    np.savez(out / "state.npz", **kept)
    capsys.readouterr()
    assert main(["finetune", *TINY[:-5], "--epochs", "2", "--image-size", "32", "--batch-size", "8", "--workers",
                 "0", "--no-progress", "--resume", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "training state is incomplete: array 'a3' is missing" in err[0]


def test_compare_scratch_ends_with_one_comparison_line(tmp_path, small, capsys):
    out = tmp_path / "cmp"
    assert main(["finetune", *TINY, "--out", str(out), "--compare-scratch"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("random initialization vs scratch, 1 epochs each: best val acc ")
    assert (out / "scratch" / "best.npz").is_file()


def test_describe_lists_sizes(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"x" * 1500)
    (tmp_path / "b.csv").write_bytes(b"y" * 10)
    assert describe(str(tmp_path)) == f"wrote {tmp_path}: a.bin 1.5 kB, b.csv 10 B — 1.5 kB in all"


def test_a_checkpoint_with_an_absurd_stored_size_is_a_one_line_error(tmp_path, capsys):
    from minitune.finetune.checkpoint import model_metadata, save_model
    from minitune.models import resnet18

    model = resnet18(num_classes=2, width=4)
    meta = model_metadata(model, ["a", "b"], 32, (0.5,) * 3, (0.5,) * 3)
    meta["transforms"]["resize_size"] = 10 ** 6
    save_model(tmp_path / "bad.npz", model, meta)
    assert main(["predict", "--checkpoint", str(tmp_path / "bad.npz"), "x.jpg"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "transforms.resize_size is 1000000; expected an int in [1, 2048]" in err[0]
