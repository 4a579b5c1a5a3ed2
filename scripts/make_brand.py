"""Draw the brand images of Energy Collective (custom_components/energy_collective/brand/).

A house with a lightning bolt, ringed by three linked nodes (the collective of agents), on a
rounded green square. Run with a Python that has Pillow:

    .venv/bin/python scripts/make_brand.py
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parents[1] / "custom_components" / "energy_collective" / "brand"
SUPERSAMPLE = 4
TOP = (16, 118, 110)  # teal
BOTTOM = (34, 160, 94)  # green
WHITE = (255, 255, 255, 255)
SUN = (253, 200, 48, 255)
INK = (22, 54, 52, 255)


def _mark(size: int) -> Image.Image:
    """The square mark, drawn large and scaled down for smooth edges."""
    s = size * SUPERSAMPLE
    gradient = Image.new("RGBA", (s, s))
    gd = ImageDraw.Draw(gradient)
    for y in range(s):
        t = y / (s - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(TOP, BOTTOM, strict=True))
        gd.line([(0, y), (s, y)], fill=(*colour, 255))
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, s - 1, s - 1], radius=round(s * 0.22), fill=255)
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    img.paste(gradient, (0, 0), mask)
    d = ImageDraw.Draw(img)

    c = s / 2
    ring = s * 0.36
    width = max(2, round(s * 0.022))
    # the collective: three nodes on a ring, linked by arcs
    d.ellipse([c - ring, c - ring, c + ring, c + ring], outline=(255, 255, 255, 110), width=width)
    node = s * 0.055
    for k in range(3):
        a = math.radians(-90 + 120 * k + 60)
        nx, ny = c + ring * math.cos(a), c + ring * math.sin(a)
        d.ellipse([nx - node, ny - node, nx + node, ny + node], fill=WHITE)

    # the house
    w = s * 0.40
    body_top = c - s * 0.02
    body_bottom = c + s * 0.22
    roof_peak = c - s * 0.25
    eave = s * 0.05
    d.polygon(
        [
            (c - w / 2 - eave, body_top),
            (c, roof_peak),
            (c + w / 2 + eave, body_top),
        ],
        fill=WHITE,
    )
    d.rectangle([c - w / 2, body_top - 1, c + w / 2, body_bottom], fill=WHITE)

    # the bolt
    u = s * 0.01
    bolt = [
        (c + 2 * u, body_top - 14 * u),
        (c - 7 * u, body_top + 6 * u),
        (c - 1 * u, body_top + 6 * u),
        (c - 4 * u, body_bottom - 2 * u),
        (c + 7 * u, body_top + 1 * u),
        (c + 1 * u, body_top + 1 * u),
        (c + 4 * u, body_top - 14 * u),
    ]
    d.polygon(bolt, fill=SUN, outline=INK, width=max(1, round(u * 0.8)))
    return img.resize((size, size), Image.Resampling.LANCZOS)


def _logo(height: int) -> Image.Image:
    """The mark with the name beside it."""
    mark = _mark(height)
    font = ImageFont.load_default(size=round(height * 0.34))
    lines = ("Energy", "Collective")
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    text_w = max(round(probe.textlength(line, font=font)) for line in lines)
    gap = round(height * 0.12)
    img = Image.new("RGBA", (height + gap + text_w + gap // 2, height), (0, 0, 0, 0))
    img.paste(mark, (0, 0), mark)
    d = ImageDraw.Draw(img)
    line_h = height * 0.40
    top = (height - 2 * line_h) / 2
    for i, line in enumerate(lines):
        d.text((height + gap, top + i * line_h), line, font=font, fill=INK)
    return img


def main() -> None:
    """Write icon.png, icon@2x.png and logo.png."""
    BRAND.mkdir(parents=True, exist_ok=True)
    _mark(256).save(BRAND / "icon.png", optimize=True)
    _mark(512).save(BRAND / "icon@2x.png", optimize=True)
    _logo(256).save(BRAND / "logo.png", optimize=True)
    print(f"wrote {', '.join(sorted(p.name for p in BRAND.glob('*.png')))}")


if __name__ == "__main__":
    main()
