"""Image folders: validation, the augmenting DataLoader dataset, and the synthetic folder writer.

Layout: ``ROOT/<class>/*.png|*.jpg|*.jpeg``; classes are the sub-folder names in
sorted order (label = position). Each sample is read as bytes (counted), decoded
with Pillow, converted to RGB, resized to the model's input with nearest
neighbour (Keras ``load_img``'s default), rescaled by 1/255 and augmented like
the documents' ``ImageDataGenerator`` (Chollet, Deep Learning with Python, 2017,
§5.2.5): rotation up to 40°, width and height shift 0.2 of the size, shear 0.2,
zoom 0.2 (x and y drawn separately), horizontal flip, nearest fill.

Keras measures ``shear_range`` in degrees, so shear 0.2 is a ±0.2° shear; this
follows Keras. Fill mode "nearest" repeats the edge pixels, which is
``grid_sample(..., padding_mode="border")`` here.

The sample stream is deterministic: position p of the stream is file
``perm_e[p mod n]`` of epoch e = p // n, with a permutation and augmentation
drawn from generators seeded by (seed, e) and (seed, p), so the images do not
depend on the number of worker processes.
"""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, Sampler

from dcbench.errors import UsageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SYNTHETIC_CLASSES = ("cats", "dogs")  # label 0: horizontal stripes, label 1: vertical stripes
_EPOCH_SEED_STRIDE = 7_919  # separates the permutation seeds of successive epochs
_SAMPLE_SEED_STRIDE = 104_729  # separates the augmentation seeds of successive samples


@dataclass(frozen=True, kw_only=True, slots=True)
class Augmentation:
    """The documents' ImageDataGenerator settings (Chollet 2017 §5.2.5)."""

    rotation_deg: float = 40.0  # rotation drawn from ±rotation_deg
    width_shift: float = 0.2  # horizontal shift drawn from ±width_shift x width
    height_shift: float = 0.2  # vertical shift drawn from ±height_shift x height
    shear_deg: float = 0.2  # shear angle drawn from ±shear_deg (Keras uses degrees)
    zoom: float = 0.2  # x and y zoom factors drawn from [1 - zoom, 1 + zoom]
    horizontal_flip: bool = True  # flip left-right with probability 1/2


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageFolder:
    """A validated image folder: its classes and files, each file with its label."""

    root: str
    classes: tuple[str, ...]
    files: tuple[tuple[str, int], ...] = field(repr=False)


def _uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand(1, generator=gen))


def affine_matrix(
    *, rotation_deg: float, shear_deg: float, zoom_x: float, zoom_y: float, shift_x: float, shift_y: float
) -> torch.Tensor:
    """The 2x3 ``affine_grid`` matrix (output -> input, normalised square coordinates).

    Rotation · shear · zoom about the centre, as Keras' ``apply_affine_transform``
    composes them; shifts are fractions of the image side (normalised coordinates
    span 2, so a shift f moves the sampling point by 2f).
    """
    rot, shear = math.radians(rotation_deg), math.radians(shear_deg)
    rotation = torch.tensor([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]])
    shearing = torch.tensor([[1.0, -math.sin(shear)], [0.0, math.cos(shear)]])
    zooming = torch.tensor([[zoom_x, 0.0], [0.0, zoom_y]])
    linear = rotation @ shearing @ zooming
    return torch.cat([linear, torch.tensor([[2.0 * shift_x], [2.0 * shift_y]])], dim=1)


def affine_theta(gen: torch.Generator, aug: Augmentation) -> torch.Tensor:
    """A random 2x3 ``affine_grid`` matrix drawn from the ranges of ``aug``."""
    return affine_matrix(
        rotation_deg=_uniform(gen, -aug.rotation_deg, aug.rotation_deg),
        shear_deg=_uniform(gen, -aug.shear_deg, aug.shear_deg),
        zoom_x=_uniform(gen, 1.0 - aug.zoom, 1.0 + aug.zoom),
        zoom_y=_uniform(gen, 1.0 - aug.zoom, 1.0 + aug.zoom),
        shift_x=_uniform(gen, -aug.width_shift, aug.width_shift),
        shift_y=_uniform(gen, -aug.height_shift, aug.height_shift),
    )


def warp(image: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample one (3, H, W) image through a 2x3 matrix, nearest pixel, edge pixels repeated."""
    grid = F.affine_grid(theta.unsqueeze(0), [1, *image.shape], align_corners=False)
    return F.grid_sample(image.unsqueeze(0), grid, mode="nearest", padding_mode="border", align_corners=False)[0]


def augment(image: torch.Tensor, gen: torch.Generator, aug: Augmentation) -> torch.Tensor:
    """Randomly flip and affine-transform one (3, H, W) float image with nearest fill."""
    if aug.horizontal_flip and float(torch.rand(1, generator=gen)) < 0.5:
        image = image.flip(-1)
    return warp(image, affine_theta(gen, aug))


def scan_image_folder(root: str) -> ImageFolder:
    """Validate ``root`` and list its images; raise UsageError naming the problem and the fix."""
    make = f"make one with 'dcbench data make-images {root} --count 1000'"
    path = Path(root)
    if not path.exists():
        raise UsageError(f"image folder '{root}' does not exist; {make}")
    if not path.is_dir():
        raise UsageError(f"image folder '{root}' is not a directory; pass the folder that holds <class>/*.png")
    if not os.access(path, os.R_OK | os.X_OK):
        raise UsageError(f"image folder '{root}' is not readable (permission denied); fix its permissions")
    class_dirs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise UsageError(f"image folder '{root}' has no class folders (expected {root}/<class>/*.png|*.jpg); {make}")
    files: list[tuple[str, int]] = []
    for label, class_dir in enumerate(class_dirs):
        if not os.access(class_dir, os.R_OK | os.X_OK):
            raise UsageError(f"class folder '{class_dir}' is not readable (permission denied); fix its permissions")
        images = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not images:
            raise UsageError(f"class folder '{class_dir}' has no .png/.jpg images; add images or remove the folder")
        for image in images:
            if not os.access(image, os.R_OK):
                raise UsageError(f"image '{image}' is not readable (permission denied); fix its permissions")
        _check_decodes(images[0])
        files.extend((str(image), label) for image in images)
    return ImageFolder(root=root, classes=tuple(p.name for p in class_dirs), files=tuple(files))


def _check_decodes(path: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
    except (OSError, UnidentifiedImageError) as err:
        raise UsageError(f"cannot decode image '{path}' ({err}); replace or remove the file") from err


def load_image(data: bytes, size: int) -> torch.Tensor:
    """Decode PNG/JPEG bytes to a (3, size, size) float tensor in [0, 1] (nearest resize, /255)."""
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB").resize((size, size), Image.Resampling.NEAREST)
        array = np.asarray(rgb, dtype=np.uint8).copy()
    return torch.from_numpy(array).permute(2, 0, 1).float().div_(255.0)


class InfiniteSampler(Sampler[int]):
    """Stream positions 0, 1, 2, ... (the dataset maps each to an epoch and a file)."""

    def __iter__(self) -> Iterator[int]:
        position = 0
        while True:
            yield position
            position += 1


class ImageStream(Dataset[tuple[torch.Tensor, float, int, float]]):
    """Stream position -> (image, label, bytes read, seconds spent reading/decoding/augmenting)."""

    def __init__(self, folder: ImageFolder, *, size: int, seed: int, aug: Augmentation | None) -> None:
        self.files = folder.files
        self.size = size
        self.seed = seed
        self.aug = aug
        self._epoch = -1
        self._order: list[int] = []

    def __len__(self) -> int:
        return len(self.files)

    def _file_at(self, position: int) -> tuple[str, int]:
        epoch, index = divmod(position, len(self.files))
        if epoch != self._epoch:
            gen = torch.Generator().manual_seed(self.seed + _EPOCH_SEED_STRIDE * epoch)
            self._order = torch.randperm(len(self.files), generator=gen).tolist()
            self._epoch = epoch
        return self.files[self._order[index]]

    def __getitem__(self, position: int) -> tuple[torch.Tensor, float, int, float]:
        start = time.perf_counter()
        path, label = self._file_at(position)
        data = Path(path).read_bytes()
        image = load_image(data, self.size)
        if self.aug is not None:
            gen = torch.Generator().manual_seed(self.seed + _SAMPLE_SEED_STRIDE * (position + 1))
            image = augment(image, gen, self.aug)
        return image, float(label), len(data), time.perf_counter() - start


@dataclass(frozen=True, kw_only=True, slots=True)
class WrittenFolder:
    """What ``write_image_folder`` wrote."""

    root: str
    count: int  # images written
    per_class: dict[str, int]  # images per class folder
    size_px: int  # width = height of each image, pixels
    seed: int
    bytes_written: int  # total size of the PNG files, bytes


def write_image_folder(
    root: str, *, count: int, size: int, seed: int, on_image: Callable[[int], None] | None = None
) -> WrittenFolder:
    """Write ``count`` deterministic PNGs to ROOT/cats/NNNNN.png and ROOT/dogs/NNNNN.png.

    cats (horizontal stripes) get ceil(count/2) images, dogs (vertical) the
    rest. The same (count, size, seed) writes the same pixels. ``root`` must be
    absent or an empty directory, so nothing stored is overwritten.
    """
    import numpy as np
    from PIL import Image

    from workloads.synthetic import stripe_images

    path = Path(root)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"'{root}' already exists and is not an empty directory; choose a new directory")
    per_class = {SYNTHETIC_CLASSES[0]: (count + 1) // 2, SYNTHETIC_CLASSES[1]: count // 2}
    gen = torch.Generator().manual_seed(seed)
    written = 0
    total_bytes = 0
    try:
        for label, (name, n) in enumerate(per_class.items()):
            class_dir = path / name
            class_dir.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                image = stripe_images(gen, torch.tensor([float(label)]), size=size)[0]
                pixels = (image.permute(1, 2, 0) * 255.0).round().to(torch.uint8).numpy()
                target = class_dir / f"{i:05d}.png"
                Image.fromarray(np.ascontiguousarray(pixels)).save(target, format="PNG")
                total_bytes += target.stat().st_size
                written += 1
                if on_image is not None:
                    on_image(written)
    except OSError as err:
        raise UsageError(f"cannot write images to '{root}' ({err.strerror or err}); choose a writable directory") from err
    return WrittenFolder(root=root, count=written, per_class=per_class, size_px=size, seed=seed, bytes_written=total_bytes)
