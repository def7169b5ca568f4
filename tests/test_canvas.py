"""to_mnist against real MNIST: enlarged, moved and re-coloured digits must read as well as the originals."""

import io

import numpy as np
import pytest
from PIL import Image

from mnist_dash.canvas import BadUpload, EmptyDrawing, ink, read_upload, to_mnist

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
    from mnist_dash.presets import PRESETS
    from mnist_dash.training import train

    data = load_mnist(mnist_path)
    return train(PRESETS["notebook-2-hidden"].replace(epochs=2), validation_split(data)), data


def accuracy(model, images, labels) -> float:
    return float((np.asarray(model(images * 255.0, training=False)).argmax(axis=1) == labels).mean())


@pytest.mark.parametrize("form", ["rgba-transparent", "rgb-dark-on-light", "grey-light-on-dark"])
def test_enlarged_moved_digits_read_as_well_as_the_originals(mnist_model, form):
    model, data = mnist_model
    rng = np.random.default_rng(0)
    digits, labels = data.x_test[:SAMPLE], data.y_test[:SAMPLE]
    original = accuracy(model, digits.astype(np.float32) / 255, labels)
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
    assert out.shape == (28, 28) and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
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


def png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=options.pop("format", "PNG"), **options)
    return buffer.getvalue()


def test_a_good_png_and_jpeg_are_read_as_rgba():
    assert read_upload(png(Image.new("L", (50, 40), 200))).shape == (40, 50, 4)
    assert read_upload(png(Image.new("RGB", (30, 30), "white"), format="JPEG")).shape == (30, 30, 4)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: b"this is not an image at all", "not an image"),
        (lambda: png(Image.new("RGB", (200, 200), "white"))[:300], "damaged or truncated"),
        (lambda: png(Image.new("L", (5000, 4000))), "5000x4000"),
        (lambda: png(Image.new("I;16", (50, 50))), "16-bit"),
        (lambda: b"\0" * 5_000_001, "at most 5 MB"),
    ],
)
def test_bad_uploads_are_clear_errors(make, words):
    with pytest.raises(BadUpload, match=words):
        read_upload(make(), name="upload.png")


def test_an_animated_image_is_refused():
    frames = [Image.new("L", (20, 20), shade) for shade in (0, 128, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(BadUpload, match="animated"):
        read_upload(buffer.getvalue())


def test_a_decompression_bomb_is_refused_before_decoding():
    # A tiny file that claims a huge image: refused from its header, never decoded.
    bomb = png(Image.new("1", (20000, 20000)))
    assert len(bomb) < 200_000
    with pytest.raises(BadUpload, match="too large to decode safely"):
        read_upload(bomb)
