"""to_mnist against real MNIST: enlarged, moved and re-coloured digits must read as well as the originals."""

import io
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from mnist_dash.canvas import (
    MAX_DECODE_BYTES,
    MAX_UPLOAD_BYTES,
    UPLOAD_SIDE,
    BadUpload,
    EmptyDrawing,
    ink,
    read_upload,
    to_mnist,
)

SAMPLE = 400


def place(digit: np.ndarray, scale: int, canvas: int, rng) -> np.ndarray:
    """The 28x28 digit enlarged `scale` times (bilinear, like a thick pen) somewhere on a canvas."""
    big = np.asarray(Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR))
    out = np.zeros((canvas, canvas), np.uint8)
    top, left = rng.integers(0, canvas - big.shape[0] + 1, size=2)
    out[top : top + big.shape[0], left : left + big.shape[1]] = big
    return out


def as_form(grey: np.ndarray, form: str) -> np.ndarray:
    if form == "rgba-transparent":  # what the canvas returns: white strokes, alpha = ink
        rgba = np.full((*grey.shape, 4), 255, np.uint8)
        rgba[..., 3] = grey
        return rgba
    if form == "rgb-dark-on-light":  # a photo of pen on paper
        return np.repeat((255 - grey)[..., None], 3, axis=2)
    return grey  # grey, light on dark, like MNIST itself


@pytest.fixture(scope="module")
def mnist_model(mnist_path):
    from mnist_dash.data import load_mnist, validation_split
    from mnist_dash.jobs.training import train
    from mnist_dash.presets import PRESETS

    data = load_mnist(mnist_path)
    return train(PRESETS["notebook-2-hidden"].replace(epochs=2), validation_split(data)), data


def accuracy(model, images, labels) -> float:
    """`images` as MNIST holds them and to_mnist returns them: uint8 pixels, 0-255."""
    assert images.dtype == np.uint8
    return float((np.asarray(model(images.astype(np.float32), training=False)).argmax(axis=1) == labels).mean())


@pytest.mark.parametrize("form", ["rgba-transparent", "rgb-dark-on-light", "grey-light-on-dark"])
def test_enlarged_moved_digits_read_as_well_as_the_originals(mnist_model, form):
    model, data = mnist_model
    rng = np.random.default_rng(0)
    digits, labels = data.x_test[:SAMPLE], data.y_test[:SAMPLE]
    original = accuracy(model, digits, labels)
    processed = np.stack(
        [
            to_mnist(as_form(place(digit, scale=int(rng.choice([4, 6, 9])), canvas=280, rng=rng), form))
            for digit in digits
        ]
    )
    recovered = accuracy(model, processed, labels)
    print(f"{form}: original {original:.3f}, after enlarging, moving and to_mnist {recovered:.3f}")
    assert original > 0.95
    assert recovered >= original - 0.02


def test_a_small_digit_in_a_corner_is_centred_by_mass():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[10:60, 200:215] = 255  # a "1" near the top right
    out = to_mnist(canvas)
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255  # what MNIST holds
    out = out / 255
    ys, xs = np.indices(out.shape)
    assert abs((ys * out).sum() / out.sum() - 14) < 1 and abs((xs * out).sum() / out.sum() - 14) < 1
    rows = np.flatnonzero(out.max(axis=1) > 0.1)
    assert rows.max() - rows.min() + 1 == 20  # the long side fits the 20-pixel box


@pytest.mark.parametrize("image", [np.zeros((280, 280), np.uint8), np.full((280, 280, 4), 0, np.uint8)])
def test_a_blank_canvas_is_reported_as_empty(image):
    with pytest.raises(EmptyDrawing, match="draw a digit"):
        to_mnist(image)


def test_a_speck_is_still_empty():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[100:102, 100:102] = 255
    with pytest.raises(EmptyDrawing):
        to_mnist(canvas)


def test_ink_reads_alpha_for_transparent_canvases_and_inverts_light_backgrounds():
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[4:6, 4:6] = (0, 0, 0, 255)  # black strokes on transparent: alpha is the ink
    assert ink(rgba)[5, 5] == 1 and ink(rgba)[0, 0] == 0
    paper = np.full((10, 10, 3), 250, np.uint8)
    paper[5, 5] = 10
    assert ink(paper)[5, 5] > 0.9 and ink(paper)[0, 0] < 0.05
    with pytest.raises(ValueError, match="uint8"):
        ink(np.zeros((10, 10), np.float32))


def encode(image: Image.Image, format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def png(image: Image.Image, **options) -> bytes:
    return encode(image, "PNG", **options)


def seven(width: int, height: int, mode: str = "RGB", paper="white", pen="black") -> Image.Image:
    """A dark 7 on light paper, strokes a twentieth of the height thick."""
    image = Image.new(mode, (width, height), paper)
    points = [(0.35 * width, 0.25 * height), (0.65 * width, 0.25 * height), (0.45 * width, 0.8 * height)]
    ImageDraw.Draw(image).line(points, fill=pen, width=max(2, height // 20))
    return image


@pytest.fixture
def decoded(monkeypatch) -> list[tuple[str, tuple[int, int]]]:
    """(format, size) of every image Pillow decodes during the test: what really reached memory."""
    seen, load = [], ImageFile.ImageFile.load

    def recording_load(image):
        if image.tile:  # still to decode (load is called again on loaded images)
            seen.append((image.format, image.size))
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return seen


def test_a_good_png_and_jpeg_are_read_as_rgba():
    assert read_upload(png(Image.new("L", (50, 40), 200))).shape == (40, 50, 4)
    assert read_upload(encode(Image.new("RGB", (30, 30), "white"), "JPEG")).shape == (30, 30, 4)


def test_a_12_megapixel_photo_is_decoded_small_and_still_reads(decoded):
    photo = encode(seven(4000, 3000), "JPEG", quality=90)
    image = read_upload(photo, "phone.jpg")
    assert image.shape == (420, 560, 4) and image.dtype == np.uint8
    # libjpeg decoded it at 1/4 scale: no full-size raster (48 MB in Pillow) was ever made.
    assert decoded == [("JPEG", (1000, 750))]
    reference = to_mnist(np.asarray(seven(560, 420).convert("RGBA")))
    assert np.abs(to_mnist(image) / 255 - reference / 255).mean() < 0.03


def test_a_progressive_jpeg_counts_the_coefficients_libjpeg_keeps(decoded):
    # Progressive JPEG keeps every DCT coefficient of the full image, whatever the draft scale.
    full_colour = seven(3000, 2500)
    assert read_upload(encode(full_colour, "JPEG", quality=80)).shape == (467, 560, 4)
    with pytest.raises(BadUpload, match="3000 x 2500 pixels"):
        read_upload(encode(full_colour, "JPEG", quality=80, progressive=True, subsampling=0))
    assert read_upload(encode(full_colour, "JPEG", quality=80, progressive=True, subsampling=2)).shape == (467, 560, 4)
    assert [size for _, size in decoded] == [(750, 625), (750, 625)]  # the refused one was never decoded


def test_a_4096_square_grey_png_is_read_and_a_colour_one_refused(decoded):
    grey = read_upload(png(seven(4096, 4096, "L")), "scan.png")
    assert grey.shape == (UPLOAD_SIDE, UPLOAD_SIDE, 4)
    assert to_mnist(grey).max() == 255
    # Pillow keeps RGB at 4 bytes a pixel: 67 MB decoded is over the limit, refused from the header.
    with pytest.raises(BadUpload, match=r"4096 x 4096 pixels .* 67 MB .* limit is 40 MB"):
        read_upload(png(seven(4096, 4096)), "screenshot.png")
    assert decoded == [("PNG", (4096, 4096))]
    assert MAX_DECODE_BYTES < 4096 * 4096 * 4


def test_thin_one_bit_strokes_are_shrunk_smoothly_not_dropped():
    # Pillow shrinks 1-bit and palette images by picking pixels, which loses thin strokes.
    lines = Image.new("1", (2000, 2000))
    for x in range(0, 2000, 40):
        ImageDraw.Draw(lines).line([(x, 0), (x, 1999)], fill=1, width=2)
    lit = read_upload(png(lines))[0, :, 0] > 0  # the top row, left to right
    assert np.count_nonzero(lit[1:] & ~lit[:-1]) + lit[0] == 50  # every one of the 50 lines is still there


def test_transparency_is_kept_for_ink():
    strokes = seven(200, 150, "RGBA", paper=(0, 0, 0, 0), pen=(0, 0, 0, 255))
    image = read_upload(png(strokes))
    assert image[0, 0, 3] == 0 and image[..., 3].max() == 255
    palette = png(strokes.convert("P"), transparency=0)
    assert np.array_equal(read_upload(palette)[..., 3] > 0, image[..., 3] > 0)


def test_a_photo_taken_sideways_is_turned_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    image = read_upload(encode(Image.new("RGB", (60, 40), "white"), "JPEG", exif=exif))
    assert image.shape == (60, 40, 4)


def test_a_phone_photo_with_an_extra_picture_is_read_from_its_first():
    photo, extra = seven(80, 60), Image.new("RGB", (80, 60), "black")
    mpo = encode(photo, "MPO", save_all=True, append_images=[extra])
    assert read_upload(mpo).shape == (60, 80, 4) and read_upload(mpo)[0, 0, 0] > 200


@pytest.mark.parametrize(
    ("format", "options"),
    [("BMP", {}), ("TIFF", {}), ("GIF", {}), ("ICO", {"sizes": [(32, 32)]}), ("WEBP", {})],
)
def test_other_formats_are_refused_by_name(format, options):
    with pytest.raises(BadUpload, match=rf"digit\.{format.lower()} is a {format} image; upload a PNG or JPEG"):
        read_upload(encode(Image.new("RGB", (32, 32), "white"), format, **options), f"digit.{format.lower()}")


def test_a_bmp_named_png_is_refused_for_what_it_is():
    with pytest.raises(BadUpload, match=r"digit\.png is a BMP image"):
        read_upload(encode(Image.new("RGB", (32, 32)), "BMP"), "digit.png")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: b"this is not an image at all", "not an image"),
        (lambda: png(Image.new("RGB", (200, 200), "white"))[:300], "damaged or truncated"),
        (lambda: png(Image.new("RGB", (5000, 4000))), r"5000 x 4000 pixels .* 80 MB to decode; the limit is 40 MB"),
        (lambda: png(Image.new("I;16", (50, 50))), "16-bit"),
        (lambda: b"\0" * (8 * 2**20 + 1), "at most 8 MB"),
    ],
)
def test_bad_uploads_are_clear_errors(make, words):
    with pytest.raises(BadUpload, match=words):
        read_upload(make(), name="upload.png")


def test_an_animated_png_is_refused():
    frames = [Image.new("L", (20, 20), shade) for shade in (0, 128, 255)]
    with pytest.raises(BadUpload, match="animated"):
        read_upload(png(frames[0], save_all=True, append_images=frames[1:]))


def test_a_decompression_bomb_is_refused_before_decoding(decoded):
    # Tiny files that claim huge images: refused from their headers, never decoded.
    bomb = png(Image.new("1", (20000, 20000)))
    assert len(bomb) < 200_000
    with pytest.raises(BadUpload, match="more than 179 megapixels, too large to decode safely"):
        read_upload(bomb)
    with pytest.raises(BadUpload, match="9000 x 9000 pixels"):
        read_upload(png(Image.new("1", (9000, 9000))))
    assert decoded == []


def test_uploaded_image_decodes_each_content_once(monkeypatch):
    from mnist_dash.ui import draw_canvas

    calls = []
    monkeypatch.setattr(draw_canvas, "read_upload", lambda data, name: calls.append(name) or read_upload(data, name))
    data = png(seven(64, 48, "L", paper=int(np.random.default_rng().integers(256))))  # new to the cache
    first, again = draw_canvas.uploaded_image(data, "a.png"), draw_canvas.uploaded_image(data, "a.png")
    assert np.array_equal(first, again) and calls == ["a.png"]


def test_the_servers_upload_limit_is_the_one_read_upload_explains():
    config = tomllib.loads((Path(__file__).parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES


def test_the_keyboard_grid_draws_pen_strokes_that_read_as_the_canvas_reads():
    from mnist_dash.canvas import GRID, grid_image

    stem = [(row, 7) for row in range(2, 12)]  # a "1": ten cells down the middle
    picture = grid_image(stem)
    assert picture.shape == (280, 280) and picture.dtype == np.uint8
    # One stroke: between two inked cells the pen line joins them (no gap at the cells' border).
    assert picture[60, 150] == 255 and picture[45:235, 150].min() == 255
    image = to_mnist(picture)
    rows, columns = np.nonzero(image > 64)
    assert rows.max() - rows.min() >= 16 and columns.max() - columns.min() <= 6  # tall and narrow, like MNIST's 1
    assert abs(rows.mean() - 13.5) < 1.5 and abs(columns.mean() - 13.5) < 1.5  # centred by mass
    # Diagonal neighbours join too; cells outside the grid are ignored; nothing inked is an empty drawing.
    diagonal = grid_image([(3, 3), (4, 4)])
    assert diagonal[80, 80] == 255  # the corner the two cells share
    assert (grid_image([(GRID, 0), (-1, 3)]) == 0).all()
    with pytest.raises(EmptyDrawing):
        to_mnist(grid_image([]))
