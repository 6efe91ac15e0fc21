"""MNIST: reading, MD5 verification, the download path (from a local mirror), input scaling."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading

import numpy as np
import pytest

from prunephase.mnist import (
    MNIST_FILES,
    DataError,
    flatten_inputs,
    load_npz,
    locate_mnist,
    md5sum,
    read_idx,
    read_mnist,
    save_npz,
)


def test_official_files_read_as_published(mnist):
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_images.dtype == np.uint8
    # facts stated in the data's README: image 0 is a 5 with pixel sum 27525
    assert mnist.train_labels[0] == 5
    assert int(mnist.train_images[0].sum()) == 27525
    assert set(np.unique(mnist.test_labels)) == set(range(10))
    assert np.bincount(mnist.train_labels).min() > 5000


def _copy_mnist(source, target):
    target.mkdir(exist_ok=True)
    for name, _ in MNIST_FILES.values():
        shutil.copy(source / name, target / name)


def test_corrupt_file_names_file_and_checksums(mnist_path, tmp_path, monkeypatch):
    monkeypatch.delenv("PRUNEPHASE_MNIST_DIR", raising=False)  # it would supply a good copy
    _copy_mnist(mnist_path, tmp_path)
    name, md5 = MNIST_FILES["train_labels"]
    data = bytearray((tmp_path / name).read_bytes())
    data[100] ^= 0xFF
    (tmp_path / name).write_bytes(bytes(data))
    with pytest.raises(DataError) as err:
        locate_mnist([tmp_path], download=False, mirrors=())
    message = str(err.value)
    assert name in message and md5 in message and md5sum(tmp_path / name) in message


def test_missing_file_without_download_names_it(mnist_path, tmp_path, monkeypatch):
    monkeypatch.delenv("PRUNEPHASE_MNIST_DIR", raising=False)
    _copy_mnist(mnist_path, tmp_path)
    name, md5 = MNIST_FILES["test_images"]
    (tmp_path / name).unlink()
    with pytest.raises(DataError, match=f"{name}.*{md5}.*not found"):
        locate_mnist([tmp_path], download=False, mirrors=())


def test_environment_variable_is_searched_first(mnist_path, tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNEPHASE_MNIST_DIR", str(mnist_path))
    paths = locate_mnist([tmp_path / "empty"], download=False, mirrors=())
    assert all(p.parent == mnist_path for p in paths.values())


def test_a_torchvision_folder_is_found(mnist_path, tmp_path, monkeypatch):
    """torchvision's datasets.MNIST(root) keeps the files in <root>/MNIST/raw/."""
    monkeypatch.delenv("PRUNEPHASE_MNIST_DIR", raising=False)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _copy_mnist(mnist_path, raw)
    paths = locate_mnist([tmp_path / "elsewhere", tmp_path], download=False, mirrors=())
    assert all(p.parent == raw for p in paths.values())
    assert read_mnist(paths).test_labels.shape == (10000,)


def test_truncated_idx_is_reported(tmp_path, mnist_path):
    raw = gzip.decompress((mnist_path / MNIST_FILES["test_labels"][0]).read_bytes())
    bad = tmp_path / "short.gz"
    bad.write_bytes(gzip.compress(raw[:-10]))
    with pytest.raises(DataError, match="header says shape"):
        read_idx(bad)
    (tmp_path / "junk.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot be read"):
        read_idx(tmp_path / "junk.gz")


@pytest.fixture
def local_mirror(tmp_path, mnist_path):
    """An HTTP server on loopback that serves the MNIST files (and a corrupt copy under bad/)."""
    served = tmp_path / "served"
    _copy_mnist(mnist_path, served)
    (served / "bad").mkdir()
    for name, _ in MNIST_FILES.values():
        (served / "bad" / name).write_bytes(b"\x1f\x8b corrupt")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_falls_back_to_the_next_mirror(local_mirror, tmp_path, monkeypatch):
    monkeypatch.delenv("PRUNEPHASE_MNIST_DIR", raising=False)
    target = tmp_path / "downloaded"
    dead = "http://127.0.0.1:9/"  # discard port: connection refused
    paths = locate_mnist([target], download=True, mirrors=[dead, local_mirror + "/"])
    assert all(p.parent == target for p in paths.values())
    assert read_mnist(paths).train_labels[0] == 5


def test_corrupt_download_is_rejected(local_mirror, tmp_path, monkeypatch):
    monkeypatch.delenv("PRUNEPHASE_MNIST_DIR", raising=False)
    with pytest.raises(DataError, match="does not match the published checksum"):
        locate_mnist([tmp_path / "d"], download=True, mirrors=[local_mirror + "/bad/"])


def test_npz_round_trip_and_unreadable_archive(mnist, tmp_path):
    save_npz(mnist, tmp_path / "m.npz")
    back = load_npz(tmp_path / "m.npz")
    assert np.array_equal(back.test_images, mnist.test_images)
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 nope")
    with pytest.raises(DataError, match="broken.npz"):
        load_npz(tmp_path / "broken.npz")


def test_input_scaling(mnist):
    x = flatten_inputs(mnist.train_images, "standardise")
    assert x.shape == (60000, 784) and x.dtype == np.float32
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-4
    test = flatten_inputs(mnist.test_images, "standardise", reference=mnist.train_images)
    # the test set is scaled by the training set's statistics, so it is close to but not exactly 0/1
    assert 0 < abs(float(test.mean())) < 0.05
    unit = flatten_inputs(mnist.test_images[:10], "unit_interval")
    assert unit.min() == 0 and unit.max() == 1
