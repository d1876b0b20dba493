"""Data sources: digits, the synthetic stand-in, download, the archive builder, the dispatcher."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from conftest import TEST_COUNT, TRAIN_COUNTS, quiet, write_archive, write_homework_shaped_npz, zip_folder
from homework1.config.configuration import load
from homework1.core.data import DataError, load_splits, read_npz, write_npz
from homework1.core.files import sha256_file
from homework1.sources import digits, synthetic_intel
from homework1.sources.intel_landscapes import _val_counts, build, build_from_archive, download


DEFAULTS = load()  # the workflow's settings of each source (config/config.yaml over the schema)


def make_digits(path, **changes):
    digits.build(path, **(DEFAULTS["digits"] | changes), log=quiet)


def intel(out, **options):
    build(out, seed=DEFAULTS["intel_landscapes"]["seed"], **options)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------------
# digits

@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    make_digits(path)
    return path


def test_digits_layout_and_values(digits_file):
    from sklearn.datasets import load_digits

    arrays = read_npz(digits_file, n_classes=10)
    # 1797 images: 20% test (ceil 359.4), then 10% of the remaining 1437 for val
    sizes = {"train": 1293, "val": 144, "test": 360}
    for split, n in sizes.items():
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        assert images.shape == (n, 8, 8, 1) and images.dtype == np.uint8
        assert labels.shape == (n, 1) and labels.dtype == np.int64
        assert set(np.unique(labels).tolist()) == set(range(10))
    everything = np.concatenate([arrays[f"{s}_images"] for s in sizes])
    assert everything.min() == 0 and everything.max() == 255
    # the splits are exactly the rescaled originals, nothing lost or duplicated
    expected = np.round(load_digits().images * 255 / 16).astype(np.uint8)[..., None]
    as_rows = lambda a: sorted(map(bytes, a.reshape(len(a), -1)))  # noqa: E731
    assert as_rows(everything) == as_rows(expected)


def test_digits_split_is_stratified(digits_file):
    arrays = read_npz(digits_file)
    overall = np.bincount(np.concatenate([arrays[f"{s}_labels"].ravel()
                                          for s in ("train", "val", "test")]), minlength=10)
    overall = overall / overall.sum()
    for split in ("train", "val", "test"):
        counts = np.bincount(arrays[f"{split}_labels"].ravel(), minlength=10)
        assert np.abs(counts / counts.sum() - overall).max() < 0.01


def test_digits_deterministic(digits_file, tmp_path):
    again, other = tmp_path / "again.npz", tmp_path / "other.npz"
    make_digits(again)
    make_digits(other, seed=7)
    first, second, third = read_npz(digits_file), read_npz(again), read_npz(other)
    for name in first:
        assert first[name].tobytes() == second[name].tobytes()
    assert not np.array_equal(first["train_labels"], third["train_labels"])


def test_digits_load_as_features(digits_file):
    splits = load_splits(digits_file)
    X, y = splits["train"]
    assert X.shape == (1293, 64) and X.dtype == np.float64 and y.shape == (1293,)
    assert X.min() >= 0 and X.max() < 1
    X_bias, _ = load_splits(digits_file, add_bias=True)["val"]
    assert X_bias.shape == (144, 65) and np.all(X_bias[:, -1] == 1)


# ---------------------------------------------------------------------------
# synthetic stand-in

def test_synthetic_default_shapes_are_intel():
    arrays = synthetic_intel.arrays(seed=0)
    for split, n in (("train", 12630), ("val", 1404), ("test", 3000)):
        assert arrays[f"{split}_images"].shape == (n, 48, 48, 3)
        assert arrays[f"{split}_images"].dtype == np.uint8
        assert arrays[f"{split}_labels"].shape == (n, 1)
    assert set(np.unique(arrays["train_labels"]).tolist()) == set(range(6))


def test_synthetic_file(tmp_path):
    path = tmp_path / "synthetic.npz"
    synthetic_intel.build(path, seed=3, n_train=6, log=quiet)
    arrays = read_npz(path, n_classes=6)
    assert arrays["train_images"].shape == (6, 48, 48, 3)
    assert arrays["test_images"].shape == (3000, 48, 48, 3)
    # with n_train == n_classes every class must appear exactly once
    assert sorted(arrays["train_labels"].ravel().tolist()) == list(range(6))
    assert "synthetic" in str(arrays["description"])
    again = tmp_path / "again.npz"
    synthetic_intel.build(again, seed=3, n_train=6, log=quiet)
    assert np.array_equal(read_npz(again)["val_images"], arrays["val_images"])
    synthetic_intel.build(again, seed=4, n_train=6, log=quiet)
    assert not np.array_equal(read_npz(again)["val_images"], arrays["val_images"])


def test_synthetic_too_few_train_examples(tmp_path):
    with pytest.raises(DataError, match="n_train=3"):
        synthetic_intel.build(tmp_path / "s.npz", seed=0, n_train=3, log=quiet)
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------------------
# download, against a real HTTP server on localhost

class Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path](handler, nth_request)``; counts requests per path."""

    def do_GET(self):
        hits = self.server.hits
        hits[self.path] = hits.get(self.path, 0) + 1
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
        else:
            route(self, hits[self.path])

    def send_body(self, body: bytes, claimed_length: int | None = None):
        self.send_response(200)
        self.send_header("Content-Length", str(claimed_length or len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.hits = {}, {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("small") / "small.npz"
    write_npz(path, synthetic_intel.arrays(seed=0, n_train=12, n_val=3, n_test=3, size=4))
    return path


@pytest.fixture(scope="module")
def homework_npz(tmp_path_factory):
    return write_homework_shaped_npz(tmp_path_factory.mktemp("homework") / "intel_landscapes.npz")


def test_download_good_file(server, small_npz, tmp_path, capsys):
    body = small_npz.read_bytes()
    server.routes["/data.npz"] = lambda h, n: h.send_body(body)
    out = tmp_path / "data" / "intel.npz"
    download(f"{server.url}/data.npz", out, sha256=sha256_file(small_npz).upper(), backoff_s=0)
    assert out.read_bytes() == body
    assert files_in(out.parent) == ["intel.npz"]
    assert "100%" in capsys.readouterr().err  # the progress bar went to stderr
    quiet = tmp_path / "quiet.npz"
    download(f"{server.url}/data.npz", quiet, sha256=sha256_file(small_npz), progress=False)
    assert capsys.readouterr().err == ""


def test_download_checksum_mismatch(server, small_npz, tmp_path):
    server.routes["/data.npz"] = lambda h, n: h.send_body(small_npz.read_bytes())
    with pytest.raises(DataError, match=r"expected sha256 0{64}, got [0-9a-f]{64}.*removed"):
        download(f"{server.url}/data.npz", tmp_path / "x.npz", sha256="0" * 64, backoff_s=0)
    assert files_in(tmp_path) == []


def test_download_404_fails_at_once(server, tmp_path):
    url = f"{server.url}/missing.npz"
    with pytest.raises(DataError, match=f"{url}: HTTP 404"):
        download(url, tmp_path / "x.npz", sha256="0" * 64, retries=3, backoff_s=0)
    assert server.hits["/missing.npz"] == 1
    assert files_in(tmp_path) == []


def test_download_truncated_body_is_retried_then_fails(server, small_npz, tmp_path):
    body = small_npz.read_bytes()
    server.routes["/short.npz"] = lambda h, n: h.send_body(body[:100], claimed_length=len(body))
    with pytest.raises(DataError, match=f"3 attempt.*truncated body: got 100 of {len(body)}"):
        download(f"{server.url}/short.npz", tmp_path / "x.npz", sha256=sha256_file(small_npz),
                 retries=2, backoff_s=0, progress=False)
    assert server.hits["/short.npz"] == 3
    assert files_in(tmp_path) == []


def test_download_recovers_from_a_server_error(server, small_npz, tmp_path):
    def flaky(handler, nth):
        if nth == 1:
            handler.send_error(503)
        else:
            handler.send_body(small_npz.read_bytes())

    server.routes["/flaky.npz"] = flaky
    out = tmp_path / "x.npz"
    download(f"{server.url}/flaky.npz", out, sha256=sha256_file(small_npz), backoff_s=0,
             progress=False)
    assert server.hits["/flaky.npz"] == 2
    assert out.read_bytes() == small_npz.read_bytes()


def test_download_rejects_a_file_that_is_not_a_data_set(server, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"certainly not an npz")
    server.routes["/junk.npz"] = lambda h, n: h.send_body(junk.read_bytes())
    out = tmp_path / "out" / "x.npz"
    with pytest.raises(DataError, match="not a valid data set"):
        download(f"{server.url}/junk.npz", out, sha256=sha256_file(junk), backoff_s=0,
                 progress=False)
    assert files_in(out.parent) == []


def test_download_needs_a_checksum_and_a_server(server, tmp_path):
    with pytest.raises(DataError, match="sha256"):
        download(f"{server.url}/data.npz", tmp_path / "x.npz", sha256=None)
    url = server.url + "/data.npz"
    server.shutdown()
    server.server_close()  # nothing listens on the port any more
    with pytest.raises(DataError, match="2 attempt"):
        download(url, tmp_path / "x.npz", sha256="0" * 64, retries=1, backoff_s=0, timeout=5)
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------------------
# building from the public archive

@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    base = tmp_path_factory.mktemp("archives")
    flat = write_archive(base / "flat", nested=False)
    nested = write_archive(base / "nested", nested=True)
    return {"flat": flat, "nested": nested, "zip": zip_folder(nested, base / "intel.zip")}


@pytest.fixture(scope="module")
def built(archives, tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "intel.npz"
    build_from_archive(archives["flat"], out, seed=42)
    return read_npz(out, n_classes=6)


def test_archive_shapes_and_holdout(built):
    val_counts = [1, 1, 1, 1, 1, 2]
    assert np.bincount(built["val_labels"].ravel()).tolist() == val_counts
    assert np.bincount(built["train_labels"].ravel()).tolist() == [
        n - k for n, k in zip(TRAIN_COUNTS, val_counts)]
    assert np.bincount(built["test_labels"].ravel()).tolist() == [TEST_COUNT] * 6
    for split, n in (("train", 57), ("val", 7), ("test", 18)):
        assert built[f"{split}_images"].shape == (n, 48, 48, 3)
        assert built[f"{split}_images"].dtype == np.uint8


def test_archive_labels_follow_sorted_class_folders(built):
    # red channel was 40 * class index; JPEG keeps a solid colour to within a few levels
    for split in ("train", "val", "test"):
        red = built[f"{split}_images"][..., 0].mean(axis=(1, 2))
        assert np.abs(red - 40 * built[f"{split}_labels"].ravel()).max() < 4


def test_archive_val_and_train_are_disjoint(built):
    # green channel = 15 * file index: (class, index) identifies the file
    def ids(split):
        green = np.round(built[f"{split}_images"][..., 1].mean(axis=(1, 2)) / 15).astype(int)
        return set(zip(built[f"{split}_labels"].ravel().tolist(), green.tolist()))

    train, val = ids("train"), ids("val")
    assert len(train) == 57 and len(val) == 7 and not train & val
    assert len(train | val) == sum(TRAIN_COUNTS)


def test_archive_layouts_give_identical_files(archives, built, tmp_path):
    for kind in ("nested", "zip"):
        out = tmp_path / f"{kind}.npz"
        build_from_archive(archives[kind], out, seed=42)
        arrays = read_npz(out)
        for name in built:
            assert np.array_equal(arrays[name], built[name]), (kind, name)


def test_archive_seed_changes_only_the_holdout(archives, built, tmp_path):
    out = tmp_path / "seed.npz"
    build_from_archive(archives["flat"], out, seed=1)
    other = read_npz(out)
    assert np.array_equal(other["test_images"], built["test_images"])
    assert np.array_equal(other["val_labels"], built["val_labels"])
    assert not np.array_equal(other["val_images"], built["val_images"])


def test_val_counts_reproduce_the_intel_split_sizes():
    # the archive's per-class training counts: 14034 images -> 12630 train + 1404 val
    counts = [2191, 2271, 2404, 2512, 2274, 2382]
    sizes = _val_counts(counts, 0.1)
    assert sum(sizes) == 1404
    assert all(abs(k - 0.1 * n) < 1 for k, n in zip(sizes, counts))
    assert _val_counts([10] * 6, 0.1) == [1] * 6


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_archive_corrupt_image_is_named(tmp_path, damage):
    root = write_archive(tmp_path / "a", nested=False)
    bad = root / "seg_train" / "forest" / "00003.jpg"
    bad.write_bytes(b"not a jpeg" if damage == "garbage" else bad.read_bytes()[:300])
    out = tmp_path / "out" / "intel.npz"
    with pytest.raises(DataError, match="cannot decode image seg_train/forest/00003.jpg"):
        build_from_archive(root, out, seed=42)
    assert not out.parent.exists() or files_in(out.parent) == []


def test_archive_structure_errors(tmp_path):
    root = write_archive(tmp_path / "a", nested=False)
    for path in sorted((root / "seg_test" / "sea").iterdir()):
        path.unlink()
    with pytest.raises(DataError, match=r"class folders differ.*seg_test \(buildings, forest, "
                                        r"glacier, mountain, street\)"):
        build_from_archive(root, tmp_path / "x.npz", seed=42)
    (root / "seg_test").rename(root / "elsewhere")
    with pytest.raises(DataError, match="no images in a seg_test/<class>/ folder"):
        build_from_archive(root, tmp_path / "x.npz", seed=42)
    with pytest.raises(DataError, match="archive not found"):
        build_from_archive(tmp_path / "nothing.zip", tmp_path / "x.npz", seed=42)
    (tmp_path / "fake.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="neither a folder nor a readable .zip"):
        build_from_archive(tmp_path / "fake.zip", tmp_path / "x.npz", seed=42)
    assert not (tmp_path / "x.npz").exists()


# ---------------------------------------------------------------------------
# the dispatcher

def test_fetch_without_a_source_names_the_config_keys(tmp_path):
    with pytest.raises(DataError) as caught:
        intel(tmp_path / "x.npz", log=lambda _: None)
    for key in ("config/config.yaml", "intel_landscapes:", "path:", "url:", "sha256:",
                "archive:"):
        assert key in str(caught.value)


def test_fetch_local_path_wins(homework_npz, tmp_path):
    messages = []
    out = tmp_path / "data" / "intel.npz"
    intel(out, path=homework_npz, archive=tmp_path / "unused", log=messages.append)
    assert out.read_bytes() == homework_npz.read_bytes()
    assert files_in(out.parent) == ["intel.npz"]
    assert "using 'path'" in messages[0]


def test_fetch_corrupt_local_file(small_npz, tmp_path):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(small_npz.read_bytes()[:200])
    out = tmp_path / "out" / "intel.npz"
    with pytest.raises(DataError, match=f"{corrupt}: not a readable .npz"):
        intel(out, path=corrupt, log=lambda _: None)
    assert not out.parent.exists() or files_in(out.parent) == []


def test_fetch_url_needs_sha256_then_downloads(server, homework_npz, tmp_path):
    server.routes["/intel.npz"] = lambda h, n: h.send_body(homework_npz.read_bytes())
    out = tmp_path / "intel.npz"
    with pytest.raises(DataError, match="'url:' is set but 'sha256:' is not"):
        intel(out, url=f"{server.url}/intel.npz", log=lambda _: None)
    assert server.hits == {}
    intel(out, url=f"{server.url}/intel.npz", sha256=sha256_file(homework_npz),
                           archive=tmp_path / "unused", log=lambda _: None)
    assert out.read_bytes() == homework_npz.read_bytes()


def test_fetch_url_of_other_data_is_refused_and_removed(server, small_npz, tmp_path):
    server.routes["/intel.npz"] = lambda h, n: h.send_body(small_npz.read_bytes())
    with pytest.raises(DataError, match=r"the downloaded file is not a valid data set \(intel_landscapes: .*: not "
                                        r"the homework's data: images of 4x4x3 \(expected 48x48x3\)"):
        intel(tmp_path / "intel.npz", url=f"{server.url}/intel.npz", sha256=sha256_file(small_npz),
              log=lambda _: None)
    assert files_in(tmp_path) == []


def test_fetch_archive_of_other_sizes_is_refused_before_decoding(archives, tmp_path):
    out = tmp_path / "intel.npz"
    messages = []
    with pytest.raises(DataError, match=r"not the homework's data: 57/7/18 train/val/test images \(expected "
                                        r"12630/1404/3000 within 1%\)"):
        intel(out, archive=archives["zip"], log=messages.append)
    assert "archive" in messages[0] and files_in(tmp_path) == []


def test_a_host_that_never_answers_costs_the_stated_timeouts_and_every_retry_is_logged(tmp_path):
    # a host that accepts the connection and then says nothing
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/data.npz"
    lines = []
    started = time.monotonic()
    try:
        with pytest.raises(DataError, match=r"download failed after 2 attempt\(s\): .*timed out"):
            download(url, tmp_path / "x.npz", sha256="0" * 64, retries=1, timeout=0.5, backoff_s=0,
                     progress=False, log=lines.append)
    finally:
        silent.close()
    assert time.monotonic() - started < 10  # two attempts of 0.5 s, not minutes
    assert len(lines) == 1 and lines[0].startswith(f"{url}: attempt 1 of 2 failed (") and "timed out" in lines[0]
    assert files_in(tmp_path) == []
