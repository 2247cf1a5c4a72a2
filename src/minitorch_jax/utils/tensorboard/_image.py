"""Image and audio summaries without extra dependencies: PNG written with ``zlib``, WAV with
``wave``.

Images follow torch.utils.tensorboard: ``dataformats`` names the axes ('CHW', 'HWC', 'HW', and for
batches 'NCHW', 'NHWC'); batches are tiled 8 per row; 1-channel images become RGB; float images are
taken to be in [0, 1] and scaled by 255, uint8 images are kept; values are clipped to [0, 255].
"""

from __future__ import annotations

import io
import struct
import wave
import zlib

import numpy as np

from . import _messages as m
from ._convert import make_np

__all__ = ["encode_png", "convert_to_hwc", "make_grid", "image", "audio", "figure_to_image"]


def encode_png(img: np.ndarray) -> bytes:
    """PNG bytes of a ``uint8`` image of shape ``(H, W, C)``, ``C`` in 1 (gray), 2 (gray+alpha),
    3 (RGB), 4 (RGBA)."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w, c = img.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = np.zeros((h, 1 + w * c), dtype=np.uint8)  # filter byte 0 (None) before each row
    rows[:, 1:] = img.reshape(h, w * c)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def make_grid(batch: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile an ``(N, C, H, W)`` batch into one ``(C, H*rows, W*cols)`` image, ``ncols`` per row
    (1-channel images become 3-channel)."""
    if batch.shape[1] == 1:
        batch = np.concatenate([batch, batch, batch], 1)
    if batch.shape[1] not in (3, 4):
        raise ValueError(f"SummaryWriter.add_images(): expected 1, 3 or 4 channels, got {batch.shape[1]}")
    n, c, h, w = batch.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((c, h * nrows, w * ncols), dtype=batch.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = batch[i]
    return canvas


def convert_to_hwc(arr: np.ndarray, dataformats: str, fn: str = "add_image") -> np.ndarray:
    """``arr`` laid out as ``dataformats`` ('CHW', 'HWC', 'HW', 'NCHW', ...) as an ``(H, W, C)`` image
    (C in 3, 4; batches tiled with :func:`make_grid`)."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt):
        raise ValueError(f"SummaryWriter.{fn}(): You can not use the same dimension shorthand twice "
                         f"(dataformats={dataformats!r})")
    if arr.ndim != len(fmt):
        raise ValueError(f"SummaryWriter.{fn}(): size of input tensor and input format are different. "
                         f"tensor shape: {tuple(arr.shape)}, input_format: {dataformats}")
    if len(fmt) == 4 and set(fmt) == set("NCHW"):
        return make_grid(arr.transpose([fmt.find(ch) for ch in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3 and set(fmt) == set("CHW"):
        hwc = arr.transpose([fmt.find(ch) for ch in "HWC"])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    if len(fmt) == 2 and set(fmt) == set("HW"):
        hw = arr.transpose([fmt.find(ch) for ch in "HW"])
        return np.stack([hw, hw, hw], 2)
    raise ValueError(f"SummaryWriter.{fn}(): unsupported dataformats {dataformats!r} "
                     f"(use CHW, HWC, HW, NCHW or NHWC)")


def image(tag: str, value, dataformats: str = "CHW", fn: str = "add_image") -> bytes:
    """Encoded ``Summary`` with one PNG image (see the module docstring for the conversions)."""
    arr = make_np(value, fn)
    hwc = convert_to_hwc(arr, dataformats, fn)
    scale = 1 if arr.dtype == np.uint8 else 255
    hwc = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    h, w, c = hwc.shape
    if c not in (1, 2, 3, 4):
        raise ValueError(f"SummaryWriter.{fn}(): an image needs 1 to 4 channels, got {c}")
    img = m.image_proto(h, w, c, encode_png(hwc))
    return m.summary([m.summary_value(tag, image=img)])


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """A matplotlib figure (or list of figures) rendered to a ``(3, H, W)`` (or ``(N, 3, H, W)``)
    uint8 array. Needs matplotlib."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(fig):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba(), dtype=np.uint8)
        if close:
            plt.close(fig)
        return np.moveaxis(rgba[:, :, :3], 2, 0)

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)


def audio(tag: str, value, sample_rate: int = 44100) -> bytes:
    """Encoded ``Summary`` with mono audio (values in [-1, 1], clipped) as 16-bit WAV."""
    arr = make_np(value, "add_audio").squeeze()
    if arr.ndim != 1:
        raise ValueError(f"SummaryWriter.add_audio(): input tensor should be 1 dimensional, got shape "
                         f"{tuple(arr.shape)}")
    pcm = (np.clip(arr, -1, 1) * np.iinfo(np.int16).max).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    au = m.audio_proto(sample_rate, 1, len(pcm), buf.getvalue())
    return m.summary([m.summary_value(tag, audio=au)])
