"""The options of ``dcbench bench`` end to end from the CLI: an image folder made by
``dcbench data make-images`` read through the DataLoader, channels_last, bf16 and torch.compile."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dcbench.cli.main import main
from dcbench.store import ResultsStore


def test_cnn_trains_from_a_made_image_folder_and_records_the_input_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = tmp_path / "pets"
    assert main(["data", "make-images", str(images), "--count", "32", "--size", "48", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    store = tmp_path / "r.db"
    argv = ["bench", "cnn", "--data-dir", str(images), "--num-workers", "1", "--channels-last",
            "--dtype", "bf16", "--batch-size", "16", "--warmup", "1", "--steps", "3",
            "--store", str(store), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "ok" and summary["dtype"] == "bf16"
    assert math.isfinite(summary["loss"]["last"])
    pipeline = summary["input_pipeline"]
    # (1 warm-up + 3 measured) steps x 16 images = 64 samples = exactly two passes over the 32
    # files (each pass is a permutation), so every byte written was read twice.
    assert pipeline["samples"] == 64
    assert pipeline["bytes_read"] == 2 * written["bytes_written"]
    assert pipeline["bytes_read_per_sample"] == pytest.approx(written["bytes_written"] / written["count"])
    assert pipeline["samples_per_s"] > 0 and pipeline["loader_wait_s"] >= 0
    with ResultsStore.open(store) as db:
        config = db.get_run(summary["run_id"]).config
    assert config["channels_last"] is True and config["data_dir"] == str(images)
    assert config["num_workers"] == 1 and config["batch_size"] == 16


def test_compile_runs_from_the_cli_and_is_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "r.db"
    assert main(["bench", "mlp", "--compile", "--warmup", "1", "--steps", "2", "--store", str(store), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "ok" and summary["steps"] == 2
    assert math.isfinite(summary["loss"]["last"])
    with ResultsStore.open(store) as db:
        assert db.get_run(summary["run_id"]).config["compile"] is True
