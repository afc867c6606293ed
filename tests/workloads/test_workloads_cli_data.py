"""``dcbench data make-images``: output, JSON contract and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcbench.cli.main import main


def test_make_images_prints_one_summary_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "imgs"
    assert main(["data", "make-images", str(target), "--count", "5", "--size", "16"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("wrote 5 images (3 cats, 2 dogs; 16x16 px;")
    assert len(list(target.rglob("*.png"))) == 5


def test_make_images_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "imgs"
    assert main(["data", "make-images", str(target), "--count", "4", "--size", "12", "--seed", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    total = sum(p.stat().st_size for p in target.rglob("*.png"))
    assert report == {
        "dir": str(target),
        "count": 4,
        "per_class": {"cats": 2, "dogs": 2},
        "size_px": 12,
        "seed": 2,
        "bytes_written": total,
        "bytes_per_image": total / 4,
    }


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--count", "1"], "--count must be at least 2"),
        (["--count", "4", "--size", "2"], "--size must be between 8 and 4096"),
        (["--count", "lots"], "invalid int value"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], fragment: str
) -> None:
    try:
        code = main(["data", "make-images", str(tmp_path / "x"), *extra])
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and fragment in err[0]
    assert not (tmp_path / "x").exists()


def test_existing_folder_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("data")
    assert main(["data", "make-images", str(tmp_path), "--count", "2"]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
