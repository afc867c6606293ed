"""The image folder: writer, validation, augmentation and the DataLoader path of the cnn."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from dcbench.errors import UsageError
from workloads.base import WorkloadConfig
from workloads.images import (
    Augmentation,
    ImageStream,
    affine_matrix,
    augment,
    load_image,
    scan_image_folder,
    warp,
    write_image_folder,
)
from workloads.registry import create

IMAGE_COUNT = 12  # 6 cats + 6 dogs
IMAGE_SIZE_PX = 48  # the tiny cnn's input side
NO_AUGMENTATION = Augmentation(
    rotation_deg=0.0, width_shift=0.0, height_shift=0.0, shear_deg=0.0, zoom=0.0, horizontal_flip=False
)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A make-images folder shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("images") / "pets"
    write_image_folder(str(root), count=IMAGE_COUNT, size=IMAGE_SIZE_PX, seed=0)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_writer_lays_out_classes_and_is_deterministic(tmp_path: Path) -> None:
    a = write_image_folder(str(tmp_path / "a"), count=5, size=16, seed=3)
    write_image_folder(str(tmp_path / "b"), count=5, size=16, seed=3)
    write_image_folder(str(tmp_path / "c"), count=5, size=16, seed=4)
    files_a = _files(tmp_path / "a")
    assert sorted(files_a) == [
        "cats/00000.png", "cats/00001.png", "cats/00002.png", "dogs/00000.png", "dogs/00001.png",
    ]
    assert a.per_class == {"cats": 3, "dogs": 2}
    assert a.bytes_written == sum(len(b) for b in files_a.values())
    assert files_a == _files(tmp_path / "b")
    assert files_a != _files(tmp_path / "c")
    image = load_image(files_a["cats/00000.png"], 16)
    assert image.shape == (3, 16, 16)
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0


def test_writer_refuses_a_folder_with_files_and_keeps_them(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.write_text("precious")
    with pytest.raises(UsageError, match="not an empty directory"):
        write_image_folder(str(tmp_path), count=4, size=16, seed=0)
    assert keep.read_text() == "precious"
    assert not (tmp_path / "cats").exists()


def test_stripe_classes_differ_in_orientation(image_folder: Path) -> None:
    # Horizontal stripes vary down the rows, vertical stripes along the columns.
    cat = load_image((image_folder / "cats" / "00000.png").read_bytes(), IMAGE_SIZE_PX).mean(0)
    dog = load_image((image_folder / "dogs" / "00000.png").read_bytes(), IMAGE_SIZE_PX).mean(0)
    assert cat.mean(1).std() > cat.mean(0).std()
    assert dog.mean(0).std() > dog.mean(1).std()


def test_scan_lists_every_image_with_its_label(image_folder: Path) -> None:
    folder = scan_image_folder(str(image_folder))
    assert folder.classes == ("cats", "dogs")
    assert len(folder.files) == IMAGE_COUNT
    assert {label for _, label in folder.files} == {0, 1}


def _expect_usage_error(root: Path | str, fragment: str) -> str:
    with pytest.raises(UsageError) as err:
        scan_image_folder(str(root))
    message = str(err.value)
    assert fragment in message and "\n" not in message
    return message


def test_missing_folder_says_how_to_make_one(tmp_path: Path) -> None:
    message = _expect_usage_error(tmp_path / "nope", "does not exist")
    assert "dcbench data make-images" in message


def test_a_file_is_not_an_image_folder(tmp_path: Path) -> None:
    path = tmp_path / "file.png"
    path.write_bytes(b"x")
    _expect_usage_error(path, "is not a directory")


def test_folder_without_class_folders(tmp_path: Path) -> None:
    _expect_usage_error(tmp_path, "has no class folders")


def test_class_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "readme.txt").write_text("no images")
    _expect_usage_error(tmp_path, "has no .png/.jpg images")


def test_corrupt_image_is_reported(tmp_path: Path) -> None:
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "bad.png").write_bytes(b"not a png at all")
    _expect_usage_error(tmp_path, "cannot decode image")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file regardless of permissions")
def test_unreadable_folder(tmp_path: Path) -> None:
    root = tmp_path / "locked"
    write_image_folder(str(root), count=2, size=8, seed=0)
    root.chmod(0)
    try:
        _expect_usage_error(root, "not readable")
    finally:
        root.chmod(0o755)


def test_cnn_needs_exactly_two_classes(tmp_path: Path) -> None:
    write_image_folder(str(tmp_path / "two"), count=2, size=8, seed=0)
    (tmp_path / "two" / "birds").mkdir()
    (tmp_path / "two" / "cats" / "00000.png").rename(tmp_path / "two" / "birds" / "00000.png")
    (tmp_path / "two" / "cats" / "00001.png").write_bytes((tmp_path / "two" / "birds" / "00000.png").read_bytes())
    with pytest.raises(UsageError, match="needs exactly 2 class folders, found 3"):
        create("cnn", WorkloadConfig(data_dir=str(tmp_path / "two")))


def test_no_augmentation_is_the_identity() -> None:
    image = torch.rand(3, 9, 9)
    assert torch.equal(augment(image, torch.Generator().manual_seed(0), NO_AUGMENTATION), image)


def test_affine_matrix_rotates_and_shifts_whole_pixels() -> None:
    image = torch.rand(3, 7, 7)
    quarter = affine_matrix(rotation_deg=90, shear_deg=0, zoom_x=1, zoom_y=1, shift_x=0, shift_y=0)
    assert torch.equal(warp(image, quarter), torch.rot90(image, 1, dims=(1, 2)))
    shift = affine_matrix(rotation_deg=0, shear_deg=0, zoom_x=1, zoom_y=1, shift_x=2 / 7, shift_y=0)
    shifted = warp(image, shift)
    assert torch.equal(shifted[:, :, :5], image[:, :, 2:])
    # Nearest fill: the uncovered columns repeat the edge column.
    assert torch.equal(shifted[:, :, 5], image[:, :, 6]) and torch.equal(shifted[:, :, 6], image[:, :, 6])


def test_stream_is_seeded_and_reshuffles_each_epoch(image_folder: Path) -> None:
    folder = scan_image_folder(str(image_folder))
    stream = ImageStream(folder, size=IMAGE_SIZE_PX, seed=1, aug=Augmentation())
    again = ImageStream(folder, size=IMAGE_SIZE_PX, seed=1, aug=Augmentation())
    assert torch.equal(stream[3][0], again[3][0])
    plain = ImageStream(folder, size=IMAGE_SIZE_PX, seed=1, aug=None)
    first_epoch = {plain[p][2] for p in range(IMAGE_COUNT)}  # every file once per epoch
    assert sum(first_epoch) > 0
    order = [plain._file_at(p) for p in range(2 * IMAGE_COUNT)]
    assert sorted(order[:IMAGE_COUNT]) == sorted(folder.files) == sorted(order[IMAGE_COUNT:])
    assert order[:IMAGE_COUNT] != order[IMAGE_COUNT:]


def test_cnn_trains_from_the_folder_with_two_workers(image_folder: Path) -> None:
    batch, steps = 4, 3  # 12 samples = exactly one epoch of the 12 files
    workload = create(
        "cnn", WorkloadConfig(data_dir=str(image_folder), num_workers=2, batch_size=batch)
    )
    try:
        losses = [float(workload.train_step()) for _ in range(steps)]
        stats = workload.input_pipeline_stats()
    finally:
        workload.close()
    assert all(0 < x < 10 for x in losses)
    assert stats is not None
    assert stats.samples == batch * steps
    folder_bytes = sum(p.stat().st_size for p in image_folder.rglob("*.png"))
    assert stats.bytes_read == folder_bytes
    assert stats.bytes_read_per_sample == pytest.approx(folder_bytes / IMAGE_COUNT)
    assert stats.samples_per_s is not None and stats.samples_per_s > 0
    assert stats.wait_s >= 0


def test_loader_batches_do_not_depend_on_the_worker_count(image_folder: Path) -> None:
    def first_batch(workers: int) -> torch.Tensor:
        workload = create(
            "cnn", WorkloadConfig(data_dir=str(image_folder), num_workers=workers, batch_size=4, seed=5)
        )
        try:
            loader = iter(workload._make_loader())  # type: ignore[attr-defined]
            return next(loader)[0]
        finally:
            workload.close()

    assert torch.equal(first_batch(0), first_batch(2))
