"""The command line: one-line errors with exit code 2, evaluate and predict on a fine-tuned checkpoint."""
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
