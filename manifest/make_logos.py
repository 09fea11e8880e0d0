"""Draw the app's icons from their source, `manifest/logo.svg`:

    python manifest/make_logos.py          (needs Pillow: pip install pillow)

writes `assets/logo.png` (320x320, on the icon's background) and `assets/logo-small.png`
(128x128, PNG with transparency), the sizes Zendesk's "Create app brand assets" page asks for.
The source is plain SVG, so it opens in any browser or editor; this script understands the
part of SVG it uses (`rect` with `rx`, `circle`, `polygon`, hex fills) and draws it with
Pillow at four times the size, then scales down, for smooth edges.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "logo.svg"
ASSETS = HERE / "assets"
SVG = "{http://www.w3.org/2000/svg}"
SUPERSAMPLE = 4
# (file, size in pixels, small variant: no background, data-small-fill colours)
ICONS = (("logo.png", 320, False), ("logo-small.png", 128, True))
BACKGROUND_CLASS = "background"
SMALL_FILL = "data-small-fill"


def render(source: Path, size: int, small: bool) -> Image.Image:
    """The icon at `size` x `size` pixels, RGBA."""
    root = ElementTree.parse(source).getroot()
    _, _, width, height = (float(n) for n in root.get("viewBox", "").split())
    if width != height:
        raise ValueError(f"{source}: the viewBox must be square, not {width}x{height}")
    scale = size * SUPERSAMPLE / width
    canvas = Image.new("RGBA", (size * SUPERSAMPLE,) * 2, (0, 0, 0, 0))
    pen = ImageDraw.Draw(canvas)
    for shape in root:
        if shape.tag in (f"{SVG}title", f"{SVG}desc") or not isinstance(shape.tag, str):
            continue
        if small and BACKGROUND_CLASS in shape.get("class", "").split():
            continue
        fill = ImageColor.getrgb((small and shape.get(SMALL_FILL)) or shape.get("fill", "#000"))
        draw(pen, shape, scale, fill)
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


def draw(pen: ImageDraw.ImageDraw, shape: ElementTree.Element, scale: float,
         fill: tuple[int, ...]) -> None:
    def number(name: str) -> float:
        return float(shape.get(name, "0")) * scale

    kind = shape.tag.removeprefix(SVG)
    if kind == "rect":
        x, y = number("x"), number("y")
        box = (x, y, x + number("width") - 1, y + number("height") - 1)
        pen.rounded_rectangle(box, radius=number("rx"), fill=fill)
    elif kind == "circle":
        cx, cy, r = number("cx"), number("cy"), number("r")
        pen.ellipse((cx - r, cy - r, cx + r - 1, cy + r - 1), fill=fill)
    elif kind == "polygon":
        values = [float(v) * scale for v in shape.get("points", "").replace(",", " ").split()]
        pen.polygon(list(zip(values[::2], values[1::2], strict=True)), fill=fill)
    else:
        raise ValueError(f"{SOURCE.name}: <{kind}> is not drawn by this script")


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    for name, size, small in ICONS:
        render(SOURCE, size, small).save(ASSETS / name, optimize=True)
        print(f"wrote {ASSETS / name} ({size}x{size})")


if __name__ == "__main__":
    sys.exit(main())
