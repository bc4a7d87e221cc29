"""Set-of-marks: each listed element's box and index drawn on a screenshot.

Vision models read the index off the picture and answer with it; the trace
report shows the same picture to a person. Boxes are in CSS pixels of the
viewport (Element.bbox); pass `scale` when the screenshot has another pixel
ratio (device_scale_factor 2 -> scale=2).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from ..types import Element

log = logging.getLogger(__name__)

# Distinct, saturated colours that stay readable with white or black text.
PALETTE = [
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 200, 200), (240, 50, 230), (128, 128, 0), (0, 128, 128), (170, 110, 40),
    (128, 0, 0), (0, 0, 128), (255, 200, 0), (100, 100, 255), (0, 160, 90),
]
FONT_PX = 13


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled TrueType font
    except Exception:  # Pillow built without FreeType: the small bitmap font
        return ImageFont.load_default()


def _text_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = rgb
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def draw_marks(png: bytes, elements: Sequence[Element], *, scale: float = 1.0) -> bytes:
    """Return a PNG of the same size with each element's box and `index` label drawn on it.

    Bytes Pillow cannot read come back unchanged: marks help a vision model, their
    absence must not cost it the picture.
    """
    try:
        base = Image.open(io.BytesIO(png)).convert("RGBA")
    except (OSError, ValueError) as exc:  # UnidentifiedImageError is an OSError
        log.debug("cannot draw marks on this image: %s", exc)
        return png
    width, height = base.size
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    font = _font(max(10, round(FONT_PX * scale)))
    line = max(2, round(2 * scale))
    for el in elements:
        if el.bbox is None:
            continue
        x0, y0 = el.bbox.x * scale, el.bbox.y * scale
        x1, y1 = x0 + el.bbox.width * scale, y0 + el.bbox.height * scale
        if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
            continue  # outside the picture (listed, but scrolled out of view)
        cx0, cy0 = max(0.0, x0), max(0.0, y0)
        cx1, cy1 = min(width - 1.0, x1), min(height - 1.0, y1)
        colour = PALETTE[el.index % len(PALETTE)]
        # A secret field is blacked out, whatever screenshot this is (belt and braces).
        fill = (0, 0, 0, 255) if el.sensitive else (*colour, 28)
        draw.rectangle((cx0, cy0, cx1, cy1), fill=fill)
        draw.rectangle((cx0, cy0, cx1, cy1), outline=(*colour, 255), width=line)
        # Label above the box's top-left corner, or inside it when there is no room;
        # always kept inside the picture.
        label = str(el.index)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tw, th = right - left + 6, bottom - top + 4
        lx = min(max(0.0, cx0), width - tw)
        ly = cy0 - th if cy0 - th >= 0 else cy0
        ly = min(max(0.0, ly), height - th)
        draw.rectangle((lx, ly, lx + tw, ly + th), fill=(*colour, 235))
        draw.text((lx + 3 - left, ly + 2 - top), label, font=font, fill=(*_text_colour(colour), 255))
    out = io.BytesIO()
    Image.alpha_composite(base, overlay).convert("RGB").save(out, format="PNG")
    return out.getvalue()
