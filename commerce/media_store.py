"""Files customers send (transfer proofs, chat images) kept in the media directory,
with their metadata in SQL.

Images are checked by their content, not their name: only JPEG, PNG and WebP are
accepted, within a byte and a pixel budget (a small file can decode into a huge
bitmap: a decompression bomb), and they are re-encoded without EXIF before being
stored, so location data in a phone photo never reaches the shop's disk.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from commerce.errors import ValidationError
from commerce.records import MediaFile
from commerce.services.uow import UnitOfWork

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
            "WEBP": ("image/webp", "webp")}


class ImageRefused(ValidationError):
    """Why an upload was refused: ``reason`` is one of type, size, pixels."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, field="image")
        self.reason = reason


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def clean_image(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES,
                max_pixels: int = MAX_IMAGE_PIXELS) -> CleanImage:
    """Validate an image by content and re-encode it without metadata."""
    if len(data) > max_bytes:
        raise ImageRefused(f"圖片太大：上限 {max_bytes // (1024 * 1024)} MB", "size")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                if kind not in _FORMATS:
                    raise ImageRefused("只接受 JPEG、PNG 或 WebP 圖片", "type")
                if width * height > max_pixels:
                    raise ImageRefused(
                        f"圖片像素過多：上限 {max_pixels // 1_000_000} 百萬像素", "pixels")
                probe.load()
                image = probe.copy()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("圖片像素過多", "pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("檔案不是可讀取的圖片（只接受 JPEG、PNG 或 WebP）", "type") from None
    content_type, extension = _FORMATS[kind]
    out = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    elif kind == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=90)
    return CleanImage(out.getvalue(), content_type, extension, width, height)


class MediaStore:
    def __init__(self, uow: UnitOfWork, directory: Path) -> None:
        self._uow = uow
        self._dir = directory

    def save_image(self, data: bytes, *, source: str, max_bytes: int = MAX_IMAGE_BYTES) -> int:
        """Check, clean and keep an image; returns the media id."""
        image = clean_image(data, max_bytes=max_bytes)
        return self._save(image.data, image.content_type, image.extension, source,
                          image.width, image.height)

    def _save(self, data: bytes, content_type: str, extension: str, source: str,
              width: int | None, height: int | None) -> int:
        day = datetime.now(timezone.utc).strftime("%Y/%m/%d")
        relative = f"{day}/{secrets.token_hex(16)}.{extension}"
        path = self._dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        try:
            with self._uow() as session:
                media = MediaFile(path=relative, content_type=content_type, size=len(data),
                                  sha256=hashlib.sha256(data).hexdigest(), width=width,
                                  height=height, source=source)
                session.add(media)
                session.flush()
                return media.id
        except Exception:
            path.unlink(missing_ok=True)
            raise

    def open(self, media_id: int) -> tuple[Path, str]:
        with self._uow() as session:
            media = session.get(MediaFile, media_id)
            if media is None:
                raise FileNotFoundError(media_id)
            return self._dir / media.path, media.content_type
