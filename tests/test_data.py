import os
from pathlib import Path

import numpy as np
import pytest

from mnist_dash import data as data_module
from mnist_dash.data import (
    MnistBadArray,
    MnistBadLabels,
    MnistDataError,
    MnistFileNotFound,
    MnistMissingArrays,
    MnistNotNpz,
    MnistUnavailable,
    load_mnist,
    validation_split,
)

from .conftest import make_digits


def write_npz(path, **overrides):
    x_train, y_train = make_digits(60)
    x_test, y_test = make_digits(12, seed=3)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test} | overrides
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_loads_four_read_only_uint8_arrays(tmp_path):
    x_train, y_train, x_test, y_test = load_mnist(write_npz(tmp_path / "m.npz"))
    assert x_train.shape == (60, 28, 28) and x_test.shape == (12, 28, 28)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
        assert not array.flags.writeable
    with pytest.raises(ValueError):
        x_train[0, 0, 0] = 1


def test_one_copy_per_process(tmp_path):
    path = write_npz(tmp_path / "m.npz")
    assert load_mnist(path) is load_mnist(str(path))


def test_a_replaced_file_is_read_again(tmp_path):
    path = write_npz(tmp_path / "m.npz")
    first = load_mnist(path)
    x_train, y_train = make_digits(30, seed=9)
    write_npz(path, x_train=x_train, y_train=y_train)
    assert len(load_mnist(path).x_train) == 30 != len(first.x_train)


def test_environment_variable_is_used_and_an_explicit_path_wins(tmp_path, monkeypatch):
    env_file = write_npz(tmp_path / "env.npz")
    x_train, y_train = make_digits(30, seed=9)
    explicit = write_npz(tmp_path / "explicit.npz", x_train=x_train, y_train=y_train)
    monkeypatch.setenv("MNIST_DASH_DATA", str(env_file))
    assert len(load_mnist().x_train) == 60
    assert len(load_mnist(explicit).x_train) == 30


def test_missing_file(tmp_path):
    with pytest.raises(MnistFileNotFound, match="MNIST_DASH_DATA"):
        load_mnist(tmp_path / "absent.npz")


def test_environment_variable_pointing_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DASH_DATA", str(tmp_path / "absent.npz"))
    with pytest.raises(MnistFileNotFound, match="from MNIST_DASH_DATA"):
        load_mnist()


def test_not_an_npz(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not arrays")
    with pytest.raises(MnistNotNpz, match=r"not a NumPy \.npz"):
        load_mnist(path)


def test_a_single_npy_array_is_not_an_archive(tmp_path):
    path = tmp_path / "single.npy"
    np.save(path, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(MnistNotNpz, match="single array"):
        load_mnist(path)


def test_missing_keys_are_named(tmp_path):
    path = write_npz(tmp_path / "m.npz", y_test=None)
    with pytest.raises(MnistMissingArrays, match="lacks y_test"):
        load_mnist(path)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"x_train": np.zeros((60, 28, 28), np.float32)}, "dtype float32"),
        ({"x_test": np.zeros((12, 784), np.uint8)}, "shape (12, 784)"),
        ({"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, np.uint8)}, "N > 0"),
        ({"y_train": np.zeros(59, np.uint8)}, "one label per image"),
        ({"y_train": np.zeros(60, np.float64)}, "integers"),
    ],
)
def test_wrong_shapes_and_dtypes(tmp_path, overrides, words):
    with pytest.raises(MnistBadArray, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_mnist(write_npz(tmp_path / "m.npz", **overrides))


def test_labels_out_of_range(tmp_path):
    labels = np.full(12, 10, np.int64)
    with pytest.raises(MnistBadLabels, match="outside 0-9"):
        load_mnist(write_npz(tmp_path / "m.npz", y_test=labels))


def test_integer_labels_of_another_width_become_uint8(tmp_path):
    _, labels = make_digits(60)
    loaded = load_mnist(write_npz(tmp_path / "m.npz", y_train=labels.astype(np.int64)))
    assert loaded.y_train.dtype == np.uint8
    np.testing.assert_array_equal(loaded.y_train, labels)


def test_offline_without_cache_says_how_to_fix_it(monkeypatch):
    monkeypatch.delenv("MNIST_DASH_DATA", raising=False)

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(data_module, "_keras_load_data", offline)
    data_module._load_with_keras.cache_clear()
    with pytest.raises(MnistUnavailable) as caught:
        load_mnist()
    message = str(caught.value)
    assert "MNIST_DASH_DATA" in message and "download" in message and "URL fetch failure" in message


def test_keras_loader_is_the_last_resort(monkeypatch):
    monkeypatch.delenv("MNIST_DASH_DATA", raising=False)
    x_train, y_train = make_digits(20)
    monkeypatch.setattr(data_module, "_keras_load_data", lambda: ((x_train, y_train), (x_train, y_train)))
    data_module._load_with_keras.cache_clear()
    try:
        assert len(load_mnist().x_test) == 20
    finally:
        data_module._load_with_keras.cache_clear()


def test_every_error_is_a_data_error():
    for error in (MnistFileNotFound, MnistNotNpz, MnistMissingArrays, MnistBadArray, MnistBadLabels, MnistUnavailable):
        assert issubclass(error, MnistDataError)


def test_validation_split_test_and_holdout(tiny_data):
    test = validation_split(tiny_data, "test")
    assert test.x_val is tiny_data.x_test and test.x_train is tiny_data.x_train
    holdout = validation_split(tiny_data, "holdout")
    assert len(holdout.x_train) == 1000 and len(holdout.x_val) == 200
    assert np.shares_memory(holdout.x_train, tiny_data.x_train)  # a view, not a copy
    np.testing.assert_array_equal(holdout.y_val, tiny_data.y_train[1000:])
    with pytest.raises(ValueError, match="holdout"):
        validation_split(tiny_data, "train")


def test_examples_per_class_gives_each_digit_in_order():
    labels = np.array([3, 1, 0, 1, 2, 0, 3, 2, 4, 5, 6, 7, 8, 9, 9, 4, 5, 6, 7, 8], np.uint8)
    picks = data_module.examples_per_class(labels, per_class=2)
    assert [int(labels[i]) for i in picks] == list(range(10)) * 2
    assert picks[:3] == [2, 1, 4]


def test_enlarge_scales_by_whole_pixels():
    image = np.array([[0, 255], [10, 20]], np.uint8)
    big = data_module.enlarge(image, factor=3)
    assert big.shape == (6, 6) and big.dtype == np.uint8
    assert (big[:3, 3:] == 255).all() and (big[3:, :3] == 10).all()


def test_the_fingerprint_follows_the_bytes_not_the_objects(tiny_data):
    from mnist_dash.data import Mnist, fingerprint

    first = fingerprint(tiny_data)
    assert first == fingerprint(tiny_data) and len(first) == 32
    copies = Mnist(*(array.copy() for array in tiny_data))
    assert fingerprint(copies) == first
    images = tiny_data.x_train.copy()
    images[0, 0, 0] ^= 1
    assert fingerprint(tiny_data._replace(x_train=images)) != first
    assert fingerprint(tiny_data._replace(x_train=tiny_data.x_train[:, :, ::-1])) != first
    assert fingerprint(tiny_data._replace(y_train=tiny_data.y_train.astype(np.int64))) != first


def test_the_fingerprint_is_computed_once_per_set_of_arrays(tiny_data, monkeypatch):
    from mnist_dash.data import fingerprint

    expected = fingerprint(tiny_data)

    def no_hashing():
        raise AssertionError("hashed again")

    monkeypatch.setattr(data_module.hashlib, "sha256", no_hashing)
    assert fingerprint(tiny_data) == expected


def test_an_unpacked_copy_serves_later_loads_and_a_damaged_one_is_passed_over(tmp_path, monkeypatch):
    x_train, y_train = make_digits(50, seed=1)
    x_test, y_test = make_digits(20, seed=2)
    path = tmp_path / "digits.npz"
    np.savez_compressed(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    first = load_mnist(path)
    [copy] = (Path(os.environ["MNIST_DASH_HOME"]) / "cache").glob("mnist-*.npz")
    data_module._load_npz.cache_clear()
    again = load_mnist(path)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True)) and not again.x_train.flags.writeable
    copy.write_bytes(b"damaged")
    data_module._load_npz.cache_clear()
    assert np.array_equal(load_mnist(path).y_test, y_test)  # the original, read again
