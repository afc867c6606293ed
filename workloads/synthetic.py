"""Deterministic synthetic data, generated on the training device from a seeded generator.

Every generator here is a handful of elementwise ops on the device (no host
loop, no host-device copy), so making a batch is cheap next to the step that
consumes it. Each task is learnable, so the loss of a short run falls:

- tokens: a log-uniform (Zipf-like, P(k) ~ 1/k) unigram, so a model gains by
  learning token frequencies first; the second half of each sequence repeats
  the first half, which attention can learn to copy.
- stripe images: class 0 has horizontal stripes, class 1 vertical stripes, with
  random frequency, phase, colour and noise (the image folder of
  ``dcbench data make-images`` uses the same generator).
- class-colour images: each class has its own mean colour, plus noise.
- teacher labels: the argmax of a fixed random linear map of the inputs.
"""

from __future__ import annotations

import math

import torch

DATA_SEED_OFFSET = 1_000_003  # data streams never share a seed with the model init
COUNT_SEED_OFFSET = 2_000_006  # the FLOP-counting batch does not consume the training stream
STRIPE_NOISE = 0.15  # std of the pixel noise added to stripe images (images are in [0, 1])


def generator(seed: int, device: str) -> torch.Generator:
    """A seeded generator for ``device``; the meta device (shapes only) uses a CPU generator."""
    kind = "cpu" if device.startswith("meta") else device
    return torch.Generator(device=kind).manual_seed(seed)


def log_uniform_tokens(gen: torch.Generator, *, batch: int, length: int, vocab: int, device: str) -> torch.Tensor:
    """Token ids in [0, vocab) with P(k) proportional to ln((k+2)/(k+1)) ~ 1/k. Shape (batch, length)."""
    u = torch.rand(batch, length, generator=gen, device=device)
    ids = torch.floor(torch.exp(u * math.log(vocab + 1))) - 1
    return ids.clamp_(0, vocab - 1).long()


def copy_structured_tokens(gen: torch.Generator, *, batch: int, length: int, vocab: int, device: str) -> torch.Tensor:
    """Log-uniform tokens whose second half repeats the first half. Shape (batch, length)."""
    half = (length + 1) // 2
    first = log_uniform_tokens(gen, batch=batch, length=half, vocab=vocab, device=device)
    return torch.cat([first, first], dim=1)[:, :length].contiguous()


def stripe_images(gen: torch.Generator, labels: torch.Tensor, *, size: int) -> torch.Tensor:
    """RGB images in [0, 1], shape (n, 3, size, size): label 0 horizontal stripes, label 1 vertical.

    ``labels`` is a float or integer tensor of 0/1 on the generator's device.
    """
    n, device = labels.shape[0], labels.device
    freq = 2.0 + 4.0 * torch.rand(n, 1, 1, generator=gen, device=device)  # cycles per image
    phase = 2.0 * math.pi * torch.rand(n, 1, 1, generator=gen, device=device)
    colour = 0.3 + 0.7 * torch.rand(n, 3, 1, 1, generator=gen, device=device)
    coord = torch.arange(size, device=device, dtype=torch.float32) / size
    rows = coord.view(1, size, 1).expand(n, size, size)
    cols = coord.view(1, 1, size).expand(n, size, size)
    vertical = labels.float().view(n, 1, 1)
    position = rows * (1.0 - vertical) + cols * vertical
    pattern = 0.5 + 0.5 * torch.sin(2.0 * math.pi * freq * position + phase)
    noise = STRIPE_NOISE * torch.randn(n, 3, size, size, generator=gen, device=device)
    return (colour * pattern.unsqueeze(1) + noise).clamp_(0.0, 1.0)


def stripe_batch(gen: torch.Generator, *, batch: int, size: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of stripe images and float 0/1 labels (for binary cross-entropy)."""
    labels = (torch.rand(batch, generator=gen, device=device) < 0.5).float()
    return stripe_images(gen, labels, size=size), labels


def class_colours(gen: torch.Generator, *, classes: int, device: str) -> torch.Tensor:
    """One random mean colour per class, shape (classes, 3, 1, 1)."""
    return torch.randn(classes, 3, 1, 1, generator=gen, device=device)


def class_colour_batch(
    gen: torch.Generator, colours: torch.Tensor, *, batch: int, size: int, device: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images = class colour + unit Gaussian noise, shape (batch, 3, size, size); int64 labels."""
    classes = colours.shape[0]
    labels = torch.floor(torch.rand(batch, generator=gen, device=device) * classes).long().clamp_(max=classes - 1)
    noise = torch.randn(batch, 3, size, size, generator=gen, device=device)
    return colours[labels] + noise, labels


def teacher(gen: torch.Generator, *, in_features: int, classes: int, device: str) -> torch.Tensor:
    """A fixed random linear map (in_features x classes) that labels the tabular data."""
    return torch.randn(in_features, classes, generator=gen, device=device)


def teacher_batch(
    gen: torch.Generator, weights: torch.Tensor, *, batch: int, device: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs and their teacher labels argmax(x @ W), shape (batch, in) and (batch,)."""
    x = torch.randn(batch, weights.shape[0], generator=gen, device=device)
    return x, (x @ weights).argmax(dim=1)
