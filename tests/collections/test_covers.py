"""collections_app.covers on images drawn by media_files."""

import colorsys
import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from collections_app import covers
from collections_app.covers import light_and_dark, open_cover, renditions, vibrant_colour

from .media_files import make_bomb, make_image

ACCEPTED = {"jpeg": "JPEG", "png": "PNG", "png_alpha": "PNG", "webp": "WEBP"}
RED = (220, 30, 60)


def open_bytes(data):
    return open_cover(io.BytesIO(data))


def refusal(data):
    """The code of the ValidationError open_cover raises for ``data``."""
    with pytest.raises(ValidationError) as caught:
        open_bytes(data)
    return caught.value.code


def encoded(data):
    """The image ``data`` holds, as Pillow reads it back."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("kind", ACCEPTED)
def test_accepted_types_open(kind):
    image = open_bytes(make_image(kind))
    assert image.format == ACCEPTED[kind]
    assert image.size == (800, 600)


@pytest.mark.parametrize("kind", ACCEPTED)
def test_renditions(kind):
    made = renditions(open_bytes(make_image(kind)))
    sizes = {"icon": (64, 48), "small": (256, 192), "regular": (640, 480), "large": (800, 600)}
    assert {name: (r.width, r.height) for name, r in made.items()} == sizes
    mime_type, pillow_format = (
        ("image/png", "PNG") if kind == "png_alpha" else ("image/jpeg", "JPEG")
    )
    for rendition in made.values():
        assert rendition.mime_type == mime_type
        image = encoded(rendition.content)
        assert (image.format, image.size) == (pillow_format, (rendition.width, rendition.height))
        if pillow_format == "JPEG":
            assert image.mode == "RGB"
            assert image.info.get("progressive")
        else:
            assert image.getchannel("A").getextrema()[0] < 255  # the transparency is kept


def test_no_upscaling():
    made = renditions(open_bytes(make_image("png", size=(200, 300))))
    assert (made["small"].width, made["small"].height) == (171, 256)
    assert (made["regular"].width, made["regular"].height) == (200, 300)
    assert (made["large"].width, made["large"].height) == (200, 300)


def test_opaque_alpha_gives_jpeg():
    """An RGBA image whose pixels are all opaque has nothing for PNG to keep."""
    out = io.BytesIO()
    Image.new("RGBA", (100, 100), (*RED, 255)).save(out, "PNG")
    made = renditions(open_bytes(out.getvalue()))
    assert {r.mime_type for r in made.values()} == {"image/jpeg"}


def test_exif_orientation_is_applied():
    """A landscape JPEG whose EXIF says: turn it 90 degrees (orientation 6) to show it."""
    image = Image.new("RGB", (800, 600), RED)
    exif = image.getexif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    made = renditions(open_bytes(out.getvalue()))
    assert (made["large"].width, made["large"].height) == (600, 800)
    assert (made["icon"].width, made["icon"].height) == (48, 64)


@pytest.mark.parametrize("kind", ["gif", "bmp"])
def test_other_image_types_are_refused(kind):
    assert refusal(make_image(kind)) == "not_an_image"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + b"not really" * 100,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        make_image("jpeg")[:1500],
        make_image("png")[:1000],
        make_image("webp")[:200],
    ],
    ids=["empty", "png-signature-only", "svg", "cut-jpeg", "cut-png", "cut-webp"],
)
def test_garbage_and_damaged_images_are_refused(data):
    assert refusal(data) == "not_an_image"


def test_decompression_bomb_is_refused():
    bomb = make_bomb()
    assert len(bomb) < 1024 * 1024
    assert refusal(bomb) == "image_too_large"


def test_pixel_limit_is_the_covers_own(monkeypatch):
    """Below Pillow's default limit, above MAX_COVER_PIXELS."""
    monkeypatch.setattr(covers, "MAX_COVER_PIXELS", 800 * 600 - 1)
    assert refusal(make_image("png")) == "image_too_large"
    monkeypatch.setattr(covers, "MAX_COVER_PIXELS", 800 * 600)
    assert open_bytes(make_image("png")).size == (800, 600)


def test_file_size_limit():
    """A valid JPEG with padding after it, which Pillow ignores: only the size counts."""
    jpeg = make_image("jpeg")
    at_limit = jpeg + b"\0" * (covers.MAX_COVER_BYTES - len(jpeg))
    assert open_bytes(at_limit).size == (800, 600)
    assert refusal(at_limit + b"\0") == "file_too_large"


def channels(hex_colour):
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def assert_near(hex_colour, rgb, tolerance=8):
    assert hex_colour == hex_colour.upper()
    assert all(abs(a - b) <= tolerance for a, b in zip(channels(hex_colour), rgb, strict=True))


@pytest.mark.parametrize("kind", ACCEPTED)
def test_vibrant_colour_finds_the_vivid_block(kind):
    assert_near(vibrant_colour(open_bytes(make_image(kind))), RED)


def test_vibrant_colour_of_another_colour():
    blue = (40, 90, 230)
    assert_near(vibrant_colour(open_bytes(make_image("png", colour=blue))), blue)


def test_vibrant_colour_ignores_greys_near_black_and_near_white():
    """However much of the image they cover: these are tinted, but too little or too dark
    to theme a player."""
    image = Image.new("RGB", (300, 300), (245, 235, 225))
    image.paste((25, 20, 30), (0, 0, 300, 60))
    image.paste((150, 135, 125), (0, 200, 300, 300))
    image.paste((30, 160, 70), (120, 100, 180, 160))
    assert_near(vibrant_colour(image), (30, 160, 70))


def test_vibrant_colour_weighs_population():
    """A vivid colour over two thirds of the image beats a slightly more vivid one."""
    image = Image.new("RGB", (300, 300), (220, 30, 50))
    image.paste((40, 60, 200), (0, 0, 200, 300))
    assert_near(vibrant_colour(image), (40, 60, 200))


def test_vibrant_colour_of_a_grey_image_is_its_most_common_colour():
    image = Image.new("RGB", (100, 100), (200, 200, 200))
    image.paste((90, 90, 90), (0, 0, 100, 70))
    assert vibrant_colour(image) == "#5A5A5A"
    assert vibrant_colour(image) == vibrant_colour(image.copy())


def hls(hex_colour):
    return colorsys.rgb_to_hls(*(c / 255 for c in channels(hex_colour)))


def test_light_and_dark_of_grey():
    assert light_and_dark("#808080") == ("#D9D9D9", "#404040")


@pytest.mark.parametrize("colour", ["#DC1E3C", "#1e50c8", "#2A9D3F"])
def test_light_and_dark_keep_hue_and_saturation(colour):
    hue, _, saturation = hls(colour)
    light, dark = light_and_dark(colour)
    for variant, lightness in ((light, 0.85), (dark, 0.25)):
        assert variant == variant.upper()
        variant_hue, variant_lightness, variant_saturation = hls(variant)
        assert abs(variant_lightness - lightness) < 0.01
        assert abs(variant_hue - hue) < 0.01
        assert abs(variant_saturation - saturation) < 0.03


@pytest.mark.parametrize("value", ["DC1E3C", "#DC1E3", "#DC1E3C0", "#GG1E3C", "#DC1E3C\n", ""])
def test_light_and_dark_refuse_what_is_not_a_colour(value):
    with pytest.raises(ValueError):
        light_and_dark(value)
