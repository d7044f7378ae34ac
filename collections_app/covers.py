"""Cover pictures of collections: accepting an uploaded image, its sizes for players, and
the colours a player themes itself with.

Pillow decides what an image is from its bytes, never from a name or a declared type.
"""

import colorsys
import io
import re
import struct
import warnings
from typing import NamedTuple

from django.core.exceptions import ValidationError
from PIL import Image, ImageOps

MAX_COVER_BYTES = 10 * 1024 * 1024
# Pillow cannot be given a pixel limit per call, and Image.MAX_IMAGE_PIXELS would change
# it for every other user of Pillow in the process: open_cover() checks the size the
# header declares itself, after Image.open (headers only) and before any pixel is decoded.
MAX_COVER_PIXELS = 40_000_000
SIZES = {"icon": 64, "small": 256, "regular": 640, "large": 1280}
ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP"]
JPEG_QUALITY = 85
# Errors Pillow raises on bytes that are not a whole image of an accepted format.
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)
# Colours less saturated or darker than this are greys, near-black or near-white: no
# player theme is built from them while the image has anything livelier.
DULL = 0.2
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
LIGHT, DARK = 0.85, 0.25


class Rendition(NamedTuple):
    """One size of a cover, encoded."""

    content: bytes
    width: int
    height: int
    mime_type: str


def open_cover(fileobj):
    """The image in ``fileobj``, decoded: a ValidationError unless it is a whole JPEG, PNG
    or WebP image within MAX_COVER_BYTES and MAX_COVER_PIXELS."""
    _check_file_size(fileobj)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            _verify(fileobj)
            fileobj.seek(0)
            image = Image.open(fileobj, formats=ACCEPTED_FORMATS)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except IMAGE_ERRORS as exc:
        raise ValidationError(
            "The file is not a JPEG, PNG or WebP image, or it is damaged: send one of those.",
            "not_an_image",
        ) from exc
    return image


def _check_file_size(fileobj):
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    if size > MAX_COVER_BYTES:
        raise ValidationError(
            f"The image is larger than the limit of {MAX_COVER_BYTES // (1024 * 1024)} MB.",
            "file_too_large",
        )


def _verify(fileobj):
    """Check the structure of the image (Pillow's verify()) once its declared size is
    within MAX_COVER_PIXELS."""
    with Image.open(fileobj, formats=ACCEPTED_FORMATS) as image:
        if image.width * image.height > MAX_COVER_PIXELS:
            raise _too_many_pixels()
        image.verify()


def _too_many_pixels():
    return ValidationError(
        f"The image has more than {MAX_COVER_PIXELS:,} pixels; send a smaller one.",
        "image_too_large",
    )


def renditions(image):
    """The cover at each of SIZES (the longest side; never enlarged), upright as its EXIF
    orientation says: JPEG, or PNG when it has transparent pixels."""
    image = ImageOps.exif_transpose(image)
    transparent = _has_transparency(image)
    image = image.convert("RGBA" if transparent else "RGB")
    return {name: _rendition(image, side, transparent) for name, side in SIZES.items()}


def _has_transparency(image):
    """Whether any pixel is less than opaque (an RGBA image can be opaque throughout)."""
    if not image.has_transparency_data:
        return False
    return image.convert("RGBA").getchannel("A").getextrema()[0] < 255


def _rendition(image, side, transparent):
    resized = image.copy()
    resized.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if transparent:
        resized.save(out, "PNG", optimize=True)
    else:
        resized.save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
    mime_type = "image/png" if transparent else "image/jpeg"
    return Rendition(out.getvalue(), resized.width, resized.height, mime_type)


def vibrant_colour(image):
    """The image's most vibrant colour as "#RRGGBB", for a player's theme: of a 16-colour
    palette of it, the colour scoring most in saturation times value times population,
    greys, near-black and near-white left out; the most common colour when all are."""
    small = ImageOps.contain(image, (64, 64)).convert("RGB")
    quantized = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette()
    colours = [(count, tuple(palette[3 * i : 3 * i + 3])) for count, i in quantized.getcolors()]
    lively = [(_vibrancy(rgb) * count, rgb) for count, rgb in colours if _vibrancy(rgb)]
    return _hex(max(lively or colours)[1])


def _vibrancy(rgb):
    """HSV saturation times value, 0 for the dull colours (see DULL)."""
    _, saturation, value = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    return 0 if saturation < DULL or value < DULL else saturation * value


def light_and_dark(hex_colour):
    """Variants of ``hex_colour`` for light and dark player themes: its hue and
    saturation at an HLS lightness of LIGHT and of DARK."""
    if not HEX_COLOUR.fullmatch(hex_colour):
        raise ValueError(f"Not a colour of the form #RRGGBB: {hex_colour!r}.")
    rgb = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, _, saturation = colorsys.rgb_to_hls(*rgb)
    light, dark = (colorsys.hls_to_rgb(hue, lightness, saturation) for lightness in (LIGHT, DARK))
    return _hex(round(c * 255) for c in light), _hex(round(c * 255) for c in dark)


def _hex(rgb):
    return "#" + "".join(f"{c:02X}" for c in rgb)
