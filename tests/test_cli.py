"""The command line: one-line errors with exit code 2, evaluate and predict on a fine-tuned checkpoint."""
import io
import os
import shutil
import subprocess
import sys

import pytest

from minitune.cli import main
from minitune.data.synthetic import write_image_folder
from minitune.finetune import FinetuneConfig, fit

pytestmark = pytest.mark.finetune


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    folders = write_image_folder(root / "shapes", n_train_per_class=4, n_val_per_class=3, image_size=32)
    fit(FinetuneConfig(data=str(root / "shapes"), weights="none", image_size=32, epochs=1, batch_size=8, workers=0,
                       out=str(root / "run"), progress=False), log=lambda *a: None)
    return root, folders


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "minitune", *args], capture_output=True, text=True)


@pytest.mark.parametrize("args, message", [
    (["finetune", "--data", "/nonexistent/folder"], "data folder /nonexistent/folder does not exist"),
    (["finetune", "--epochs", "0", "--weights", "none"], "--epochs must be positive"),
    (["evaluate", "--checkpoint", "/nonexistent.npz", "--data", "."], "does not exist"),
    (["predict", "--checkpoint", "/nonexistent.npz", "x.jpg"], "does not exist"),
    (["finetune", "--weights", "/nonexistent.pth", "--epochs", "1"], "weights file not found"),
])
def test_user_errors_print_one_line_and_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minitune: error:") and message in err[0]


def test_evaluate_prints_accuracy_and_confusion_matrix(trained, capsys):
    root, folders = trained
    assert main(["evaluate", "--checkpoint", str(root / "run" / "best.npz"), "--data", str(root / "shapes"),
                 "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "confusion matrix" in out and "macro avg" in out


def test_evaluate_runs_batch_norm_folded_and_reproduces_the_runs_validation(trained, capsys):
    """evaluate's model has its batch norms folded into the convolutions (fold_batch_norms), and gives
    the loss and accuracy the run measured on the same val/ images in eval mode."""
    import json

    from minitune import nn
    from minitune.finetune.inference import load_checkpoint_model

    root, _ = trained
    model = load_checkpoint_model(str(root / "run" / "best.npz"))[0]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert main(["evaluate", "--checkpoint", str(root / "run" / "best.npz"), "--data", str(root / "shapes"),
                 "--workers", "0"]) == 0
    first = capsys.readouterr().out.splitlines()[0]  # "N images, loss L, accuracy A"
    loss, accuracy = (float(part.split()[-1]) for part in first.split(", ")[1:])
    best = json.loads((root / "run" / "metrics.json").read_text())["best"]
    assert accuracy == pytest.approx(best["val_acc"], abs=1e-4)
    assert loss == pytest.approx(best["val_loss"], abs=1e-4)


def test_evaluate_refuses_a_folder_with_other_classes(trained, tmp_path, capsys):
    root, _ = trained
    (tmp_path / "ants").mkdir()
    (tmp_path / "bees").mkdir()
    assert main(["evaluate", "--checkpoint", str(root / "run" / "best.npz"), "--data", str(tmp_path)]) == 2
    assert "classes" in capsys.readouterr().err


def test_predict_prints_top_k(trained, capsys):
    root, folders = trained
    images = sorted((root / "shapes" / "val" / "circle").iterdir())[:2]
    assert main(["predict", "--checkpoint", str(root / "run" / "best.npz"), "--topk", "2", *map(str, images)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all(line.count(",") == 1 for line in lines)


def test_not_a_weights_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "notes.npz"
    bad.write_text("hello")
    assert main(["predict", "--checkpoint", str(bad), str(bad)]) == 2
    assert "not a .npz weights file" in capsys.readouterr().err


def test_python_dash_m_and_help():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("finetune", "evaluate", "predict", "weights", "warmup", "course"):
        assert command in out.stdout
    assert run_cli().returncode == 2


# ---- one-line errors everywhere (issue 16.4) -----------------------------------------------------
@pytest.mark.parametrize("args, message", [
    ([], "no command given"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["finetune", "--epochs", "x"], "argument --epochs: invalid int value: 'x'"),
    (["finetune", "--strategy", "all"], "argument --strategy: invalid choice"),
    (["evaluate"], "the following arguments are required: --checkpoint, --data"),
    (["evaluate", "--checkpoint", "c", "--data", "d", "--batch-size", "0"], "--batch-size: expected an int >= 1"),
    (["evaluate", "--checkpoint", "c", "--data", "d", "--workers", "-1"], "--workers: expected an int >= 0"),
    (["predict"], "the following arguments are required: --checkpoint, IMAGE"),
    (["predict", "--checkpoint", "c", "--topk", "0", "x.jpg"], "--topk: expected an int >= 1, got 0"),
    (["predict", "--checkpoint", "c", "--topk", "-3", "x.jpg"], "--topk: expected an int >= 1, got -3"),
    (["weights"], "weights: no action given"),
    (["weights", "convert"], "the following arguments are required: src, dst"),
    (["weights", "fetch", "resnet99"], "argument arch: invalid choice"),
    (["weights", "info"], "the following arguments are required: file"),
    (["weights", "export", "a"], "the following arguments are required: dst"),
    (["warmup", "--bogus"], "unrecognized arguments: --bogus"),
    (["course"], "the following arguments are required: ACTION"),
])
def test_argument_errors_are_one_line(args, message, capsys):
    """argparse's errors too (they were usage + error): the top parser and every subparser."""
    assert main(args) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minitune: error: ") and message in err[0], err
    assert "usage:" not in captured.out + captured.err


def test_one_line_errors_from_a_subprocess():
    out = run_cli("predict", "--checkpoint", "x.npz", "--topk", "0", "a.jpg")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines() == ["minitune: error: argument --topk: expected an int >= 1, got 0 "
                                       "(see: minitune predict --help)"]


def test_topk_larger_than_the_classes_is_an_error(trained, capsys):
    root, _ = trained
    image = str(sorted((root / "shapes" / "val" / "circle").iterdir())[0])
    checkpoint = str(root / "run" / "best.npz")
    classes = len(__import__("minitune").finetune.inference.load_checkpoint_model(checkpoint)[1])
    assert main(["predict", "--checkpoint", checkpoint, "--topk", str(classes + 1), image]) == 2
    assert f"--topk {classes + 1} is more than the {classes} classes" in capsys.readouterr().err
    assert main(["predict", "--checkpoint", checkpoint, "--topk", str(classes), image]) == 0
    assert capsys.readouterr().out.count(",") == classes - 1


@pytest.mark.parametrize("field, value", [("crop_size", 10 ** 6), ("resize_size", 10 ** 9), ("crop_size", 0),
                                          ("crop_size", "224")])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_checkpoint_with_absurd_transform_sizes(trained, tmp_path, capsys, field, value, command):
    """Checked against MAX_IMAGE_SIZE before any image is resized (a MemoryError traceback before)."""
    from minitune.io import load_converted, save_converted
    root, _ = trained
    state, meta = load_converted(root / "run" / "best.npz")
    meta["transforms"][field] = value
    save_converted(tmp_path / "absurd.npz", state, meta)
    image = str(sorted((root / "shapes" / "val" / "circle").iterdir())[0])
    args = ["--data", str(root / "shapes"), "--workers", "0"] if command == "evaluate" else [image]
    assert main([command, "--checkpoint", str(tmp_path / "absurd.npz"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    limit = 1024 if field == "crop_size" else 2048
    assert len(err) == 1 and f"transforms.{field} is {value!r}; expected an int in [1, {limit}]" in err[0]


def test_skipped_images_warning_is_one_clean_line(trained, tmp_path):
    root, _ = trained
    data = tmp_path / "data"
    shutil.copytree(root / "shapes" / "val", data)
    (data / "circle" / "broken.jpg").write_bytes(b"not a jpeg")
    out = run_cli("evaluate", "--checkpoint", str(root / "run" / "best.npz"), "--data", str(data), "--workers", "0")
    assert out.returncode == 0
    lines = [line for line in out.stderr.splitlines() if "skipped" in line]
    assert len(lines) == 1 and lines[0].startswith("minitune: warning: ImageFolder(") and "broken.jpg" in lines[0]
    assert "warnings.warn" not in out.stderr and "UserWarning" not in out.stderr


def test_non_utf8_class_name_under_a_strict_utf8_stdout(trained, tmp_path, monkeypatch):
    """A class folder named in Latin-1: training, evaluate and predict print it with a replacement character."""
    root, _ = trained
    data = tmp_path / "data"
    for split in ("train", "val"):
        for folder in (root / "shapes" / split).iterdir():
            name = b"cercl\xe9" if folder.name == "circle" else os.fsencode(folder.name)
            os.makedirs(os.path.join(os.fsencode(data / split), name))
            for image in sorted(folder.iterdir())[:2]:
                shutil.copy(image, os.path.join(os.fsencode(data / split), name, os.fsencode(image.name)))
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["finetune", "--data", str(data), "--weights", "none", "--image-size", "32", "--epochs", "1",
                 "--batch-size", "8", "--workers", "0", "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert main(["evaluate", "--checkpoint", str(tmp_path / "run" / "best.npz"), "--data", str(data),
                 "--workers", "0"]) == 0
    stdout.flush()
    printed = stdout.buffer.getvalue().decode("utf-8")
    assert "cercl?" in printed and "classes cercl?" in printed
