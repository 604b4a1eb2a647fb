"""Draw the Teams app icons (color.png 192x192, outline.png 32x32) into this folder.

Run once when the mark changes: `python manifest/teams/icons.py`. The PNGs are committed so
building the package needs no drawing. The mark is an open ring with a dot above it: a
person left free, a meeting left out. Teams wants the outline white on transparent.
"""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (0x2E, 0x6F, 0x73, 255)  # the manifest's accentColor
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 8  # draw large, then shrink: smooth edges without an anti-aliasing library


def draw_mark(size: int, *, background: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if background:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=ACCENT)
        scale = 0.62  # leave a margin inside the tile
    else:
        scale = 0.94  # the outline icon uses the whole 32x32
    mark = big * scale
    left = (big - mark) / 2
    top = (big - mark) / 2
    ring = mark * 0.74
    stroke = mark * 0.15
    ring_box = (left + (mark - ring) / 2, top + mark - ring, left + (mark + ring) / 2, top + mark)
    # An open ring: a "u" whose gap faces up.
    draw.arc(ring_box, start=-30, end=210, fill=WHITE, width=round(stroke))
    dot = mark * 0.22
    cx = left + mark / 2
    draw.ellipse((cx - dot / 2, top, cx + dot / 2, top + dot), fill=WHITE)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    draw_mark(192, background=True).save(HERE / "color.png", optimize=True)
    draw_mark(32, background=False).save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
