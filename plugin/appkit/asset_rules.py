"""The rules of the package's files: links, banned file types, the banner and the icons.

Errors reproduce ZAS `validations/marketplace.rb` (no symlinks), `validations/mime.rb`
(banned types, by extension or by content) and `validations/banner.rb` (830x200 or its
double). ZAS does not check the icons or the screenshots' sizes at upload; Zendesk's "Create
app brand assets" page asks for them, so they are warnings of our own.
"""

from __future__ import annotations

import struct
from pathlib import PurePosixPath

from plugin.appkit.folder import AppFolder, Problem, error, warning

# mime.rb UNSUPPORTED_MIME_TYPES, compared with the extension and the content's MIME subtype.
UNSUPPORTED_TYPES = ("vnd.rar", "rar", "zip", "gzip", "pdf", "doc", "docx", "avi", "bin", "bz",
                     "bz2", "csh", "sh", "jar", "mp3", "mpeg", "odt", "pptx", "ppt", "xls",
                     "xlsx", "7z")
# Magic numbers of the banned types a renamed file can still be recognised by.
CONTENT_SUBTYPES = ((b"PK\x03\x04", "zip"), (b"\x1f\x8b", "gzip"), (b"%PDF-", "pdf"),
                    (b"Rar!\x1a\x07", "vnd.rar"), (b"ID3", "mpeg"),
                    (b"\x00\x00\x01\xba", "mpeg"))
BANNER = "assets/banner.png"
BANNER_SIZE = (830, 200)  # banner.rb BANNER_WIDTH, BANNER_HEIGHT; twice that is accepted too
HIDPI = 2
ICON_SIZES = {"assets/logo.png": (320, 320), "assets/logo-small.png": (128, 128)}
SCREENSHOT_SIZES = ((1024, 768), (2048, 1536))
SCREENSHOT_PREFIX = "assets/screenshot-"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_HEADER = struct.Struct(">8sI4sII")  # signature, IHDR length, "IHDR", width, height


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, or None if `data` is not a PNG."""
    if len(data) < PNG_HEADER.size:
        return None
    signature, _, chunk, width, height = PNG_HEADER.unpack_from(data)
    return (width, height) if signature == PNG_SIGNATURE and chunk == b"IHDR" else None


def symlink_errors(folder: AppFolder) -> list[Problem]:
    return [error("symlink_in_zip")] if folder.symlinks() else []


def banned_type_errors(folder: AppFolder) -> list[Problem]:
    banned = [name for name in folder.files() if banned_type(name, folder)]
    return [error("unsupported_mime_type_detected", file_names=", ".join(banned),
                  count=len(banned))] if banned else []


def banned_type(name: str, folder: AppFolder) -> bool:
    """By its extension, or by its first bytes (a renamed archive is still an archive)."""
    extension = PurePosixPath(name).suffix.lstrip(".")
    if extension in UNSUPPORTED_TYPES:
        return True
    try:
        head = folder.read(name)[:16]
    except OSError:  # a dangling link: reported as a link already
        return False
    return any(head.startswith(magic) and subtype in UNSUPPORTED_TYPES
               for magic, subtype in CONTENT_SUBTYPES)


def banner_errors(folder: AppFolder) -> list[Problem]:
    if not folder.has(BANNER):
        return []
    size = png_size(folder.read(BANNER))
    if size is None:
        return [error("banner.invalid_format")]
    width, height = BANNER_SIZE
    if size not in (BANNER_SIZE, (HIDPI * width, HIDPI * height)):
        return [error("banner.invalid_size", required_banner_width=width,
                      required_banner_height=height)]
    return []


def warnings(folder: AppFolder) -> list[Problem]:
    """Icons and screenshots whose size differs from what Zendesk asks for."""
    problems = []
    for name, expected in ICON_SIZES.items():
        if folder.has(name):
            problems += image_warnings(folder, name, [expected])
    for name in folder.files():
        if name.startswith(SCREENSHOT_PREFIX) and name.endswith(".png"):
            problems += image_warnings(folder, name, list(SCREENSHOT_SIZES))
    return problems


def image_warnings(folder: AppFolder, name: str,
                   expected: list[tuple[int, int]]) -> list[Problem]:
    size = png_size(folder.read(name))
    if size is None:
        return [warning("project.image_not_png", file=name)]
    if size in expected:
        return []
    return [warning("project.image_size", file=name, width=size[0], height=size[1],
                    expected=" or ".join(f"{w}x{h}" for w, h in expected))]
