"""Tests of raw-data acquisition: mirror copies, downloads and their faults, the committed manifest.

Downloads go to a local HTTP server on 127.0.0.1 (a random free port) that the fixtures start
and stop; it serves the right bytes or one fault: 404, a body cut mid-stream, wrong bytes, or
an answer slower than the client's timeout. No other address is contacted.
"""

from __future__ import annotations

import csv
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from analysis import config
from analysis.acquire import FIELDS, AcquireError, acquire_all, ensure_file, read_manifest, sha256_of
from analysis.infra.errors import InputError

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

BODY = b"".join(b"%05d,county,%07d\n" % (i, i * 37 % 9999991) for i in range(12_000))  # ~250 kB
PATH = "ucr/toy data/county file.txt"  # a space, so the URL needs %20
SHA = hashlib.sha256(BODY).hexdigest()
TIMEOUT = 0.5


class Handler(BaseHTTPRequestHandler):
    """Serve ``server.files`` (URL path -> bytes), spoiled by ``server.fault``."""

    timeout = 5  # a stuck client connection ends by itself

    def do_GET(self):
        self.server.requests.append(self.path)
        body = self.server.files.get(unquote(urlsplit(self.path).path).lstrip("/"))
        fault = self.server.fault
        if body is None or fault == "404":
            self.send_error(404)
            return
        if fault == "slow":
            self.server.release.wait(5)  # longer than the client's timeout; bounded
        if fault == "wrong":
            body = body[:-1] + bytes([body[-1] ^ 1])
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if fault == "cut" else body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local HTTP server on 127.0.0.1, stopped (and any slow handler released) after the test."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.files, httpd.fault, httpd.requests, httpd.release = {PATH: BODY}, None, [], threading.Event()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def closed_port_url():
    """A 127.0.0.1 URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def write_manifest(path: Path, rows: list[dict]) -> Path:
    """Write a manifest with FIELDS; each row gives at least path, sha256, bytes and url."""
    defaults = {
        "source": "toy/repo@0000",
        "licence": "public domain",
        "citation": "Toy (2024)",
        "redistribution": "public domain",
        "note": "",
    }
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**defaults, **row} for row in rows)
    return path


def toy_entry(tmp_path: Path, url: str):
    """The manifest entry of the toy file BODY at PATH, to be fetched from ``url``."""
    row = {"path": PATH, "sha256": SHA, "bytes": len(BODY), "url": url}
    return read_manifest(write_manifest(tmp_path / "toy_manifest.csv", [row]))[0]


def files_under(folder: Path) -> list[str]:
    """Every file under ``folder`` (temporary and hidden ones included), relative, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ---- the manifest reader ------------------------------------------------------------------------


def test_read_manifest_parses_rows(tmp_path):
    entry = toy_entry(tmp_path, "https://example.org/a%20b.txt")
    assert (entry.path, entry.sha256, entry.bytes, entry.url) == (PATH, SHA, len(BODY), "https://example.org/a%20b.txt")
    assert entry.note == "" and entry.redistribution == "public domain"


GOOD = {"path": "a/b.csv", "sha256": "0" * 64, "bytes": "10", "url": "https://example.org/b.csv"}


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"sha256": "abc"}, "sha256", "not a sha256"),
        ({"sha256": "A" * 64}, "sha256", "not a sha256"),
        ({"bytes": "1e3"}, "bytes", "not a whole number"),
        ({"url": "https://example.org/a b.csv"}, "url", "%20"),
        ({"url": "ftp://example.org/b.csv"}, "url", "not an http(s) URL"),
        ({"path": "../outside.csv"}, "path", "plain relative path"),
        ({"path": "/etc/passwd"}, "path", "plain relative path"),
        ({"licence": " "}, "licence", "is empty"),
        ({"path": "x.csv"}, "path", "repeats line 2"),
    ],
)
def test_read_manifest_names_file_line_and_field(tmp_path, change, field, words):
    rows = [{**GOOD, "path": "x.csv"}, {**GOOD, **change}]
    manifest = write_manifest(tmp_path / "manifest.csv", rows)
    with pytest.raises(InputError) as err:
        read_manifest(manifest)
    assert str(err.value).startswith(f"{manifest}:3: field '{field}'")
    assert words in str(err.value)


def test_read_manifest_rejects_wrong_field_counts_and_header(tmp_path):
    manifest = write_manifest(tmp_path / "manifest.csv", [GOOD])
    text = manifest.read_text()
    manifest.write_text(text + "c.csv,%s,1,https://example.org/c\n" % ("0" * 64))
    with pytest.raises(InputError, match=r"manifest\.csv:3: field 'source' has fewer than 9 fields"):
        read_manifest(manifest)
    manifest.write_text(text.rstrip("\n") + ",extra\n")
    with pytest.raises(InputError, match=r"manifest\.csv:2: has more than 9 fields"):
        read_manifest(manifest)
    manifest.write_text(text.replace("licence", "license", 1))
    with pytest.raises(InputError, match=r"manifest\.csv:1: header must be path,sha256"):
        read_manifest(manifest)
    with pytest.raises(InputError, match=r"missing\.csv: manifest not found"):
        read_manifest(tmp_path / "missing.csv")


# ---- downloads and their faults -----------------------------------------------------------------


def test_download_installs_the_verified_file(tmp_path, server):
    entry = toy_entry(tmp_path, server.url + "/" + quote(PATH))
    dest = tmp_path / "data_raw"
    assert ensure_file(entry, dest, mirrors=[], timeout=TIMEOUT) == "download"
    assert server.requests == ["/ucr/toy%20data/county%20file.txt"]
    assert files_under(dest) == [PATH] and sha256_of(dest / PATH) == SHA
    assert ensure_file(entry, dest, mirrors=[], timeout=TIMEOUT) == "present"
    assert len(server.requests) == 1  # a verified file is not fetched again


@pytest.mark.parametrize(
    "fault, says",
    [
        ("404", ["HTTP status 404"]),
        ("cut", [f"connection dropped after {len(BODY) // 2} of {len(BODY)} bytes"]),
        ("wrong", ["has sha256 ", f"expected {SHA} ({len(BODY)} bytes)", "nothing was installed"]),
        ("slow", [f"timed out: no data for {TIMEOUT:g} s"]),
    ],
)
def test_download_fault_names_file_and_url_leaves_nothing_then_retry_works(tmp_path, server, fault, says):
    url = server.url + "/" + quote(PATH)
    entry = toy_entry(tmp_path, url)
    dest = tmp_path / "data_raw"
    server.fault = fault
    start = time.perf_counter()
    with pytest.raises(AcquireError) as err:
        ensure_file(entry, dest, mirrors=[], timeout=TIMEOUT)
    message = str(err.value)
    assert message.startswith(f"{PATH}: ") and url in message
    for words in says:
        assert words in message
    if fault == "wrong":
        wrong = BODY[:-1] + bytes([BODY[-1] ^ 1])
        assert f"has sha256 {hashlib.sha256(wrong).hexdigest()} ({len(BODY)} bytes)" in message
    assert time.perf_counter() - start < 4 * TIMEOUT + 1
    assert files_under(dest) == []  # no partial or temporary file
    server.fault = None
    server.release.set()
    assert ensure_file(entry, dest, mirrors=[], timeout=TIMEOUT) == "download"
    assert files_under(dest) == [PATH] and sha256_of(dest / PATH) == SHA


def test_base_url_replaces_the_pinned_url(tmp_path, server, closed_port_url):
    entry = toy_entry(tmp_path, closed_port_url + "/pinned.txt")
    dest = tmp_path / "data_raw"
    assert ensure_file(entry, dest, [], timeout=TIMEOUT, base_url=server.url + "/") == "download"
    assert server.requests == ["/ucr/toy%20data/county%20file.txt"]
    assert sha256_of(dest / PATH) == SHA


def test_missing_everywhere_is_a_clear_error(tmp_path, closed_port_url):
    url = closed_port_url + "/" + quote(PATH)
    entry = toy_entry(tmp_path, url)
    mirror, dest = tmp_path / "mirror", tmp_path / "data_raw"
    mirror.mkdir()
    with pytest.raises(AcquireError) as err:
        ensure_file(entry, dest, [mirror], timeout=TIMEOUT)
    message = str(err.value)
    assert message.startswith(f"{PATH}: not in {dest} nor in a mirror (searched: {mirror})")
    assert f"the download from {url} failed" in message and "DATA_MIRROR" in message
    assert files_under(dest) == []


# ---- files already present, and mirrors --------------------------------------------------------


def test_present_wrong_file_is_never_overwritten(tmp_path, server):
    entry = toy_entry(tmp_path, server.url + "/" + quote(PATH))
    dest, mirror = tmp_path / "data_raw", tmp_path / "mirror"
    for folder, body in ((dest, b"edited by hand\n"), (mirror, BODY)):
        (folder / PATH).parent.mkdir(parents=True)
        (folder / PATH).write_bytes(body)
    with pytest.raises(AcquireError) as err:
        ensure_file(entry, dest, [mirror], timeout=TIMEOUT)
    actual = hashlib.sha256(b"edited by hand\n").hexdigest()
    assert str(err.value) == (
        f"{PATH}: {dest / PATH} has sha256 {actual}, expected {SHA}. It was "
        "left untouched: delete it (or move it away) and rerun to fetch the "
        "pinned file."
    )
    assert (dest / PATH).read_bytes() == b"edited by hand\n" and files_under(dest) == [PATH]
    assert server.requests == []
    (dest / PATH).unlink()  # what the message says to do
    assert ensure_file(entry, dest, [mirror], timeout=TIMEOUT) == "mirror"
    assert (dest / PATH).read_bytes() == BODY


def test_copy_from_the_first_mirror_that_has_the_file(tmp_path, server):
    entry = toy_entry(tmp_path, server.url + "/" + quote(PATH))
    empty, mirror, dest = tmp_path / "empty", tmp_path / "mirror", tmp_path / "data_raw"
    empty.mkdir()
    (mirror / PATH).parent.mkdir(parents=True)
    (mirror / PATH).write_bytes(BODY)
    assert ensure_file(entry, dest, [empty, mirror], timeout=TIMEOUT) == "mirror"
    assert files_under(dest) == [PATH] and sha256_of(dest / PATH) == SHA
    assert server.requests == []  # nothing downloaded


def test_mirror_copy_with_wrong_bytes_is_an_error_and_installs_nothing(tmp_path, server):
    entry = toy_entry(tmp_path, server.url + "/" + quote(PATH))
    mirror, dest = tmp_path / "mirror", tmp_path / "data_raw"
    (mirror / PATH).parent.mkdir(parents=True)
    (mirror / PATH).write_bytes(BODY[:1000])
    with pytest.raises(AcquireError) as err:
        ensure_file(entry, dest, [mirror], timeout=TIMEOUT)
    assert str(err.value).startswith(
        f"{PATH}: the copy from mirror {mirror / PATH} has sha256 "
        f"{hashlib.sha256(BODY[:1000]).hexdigest()} (1000 bytes), expected {SHA} ({len(BODY)} bytes);"
        " nothing was installed."
    )
    assert files_under(dest) == [] and server.requests == []  # no silent fallback to a download


def test_data_mirror_is_searched_before_the_default_mirror(tmp_path, raw_mirror, monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_MIRROR", raw_mirror)
    monkeypatch.setenv("DATA_MIRROR", str(tmp_path / "mine"))
    (tmp_path / "mine").mkdir()
    assert config.mirror_dirs() == [tmp_path / "mine", raw_mirror]
    entry = next(e for e in read_manifest(config.MANIFEST) if e.path == "census/national_county.txt")
    rows = [{f: getattr(entry, f) for f in FIELDS}]
    manifest = write_manifest(tmp_path / "manifest.csv", rows)
    dest = tmp_path / "data_raw"
    (tmp_path / "mine" / entry.path).parent.mkdir(parents=True)
    (tmp_path / "mine" / entry.path).write_bytes(b"a different file\n")
    with pytest.raises(AcquireError, match=f"the copy from mirror {tmp_path / 'mine' / entry.path} "):
        acquire_all(dest, manifest)  # the default mirror's copy is right, but DATA_MIRROR comes first
    assert files_under(dest) == []
    (tmp_path / "mine" / entry.path).unlink()
    assert acquire_all(dest, manifest) == {"mirror": 1}  # now from the default mirror
    assert sha256_of(dest / entry.path) == entry.sha256


def test_a_data_mirror_that_is_not_a_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_MIRROR", str(tmp_path / "typo"))
    with pytest.raises(config.ConfigError, match=f"DATA_MIRROR={tmp_path / 'typo'} is not a folder"):
        config.mirror_dirs()


def test_an_unwritable_data_raw_is_one_clear_error(tmp_path, server, monkeypatch):
    """A folder that cannot be written (simulated: the tests may run as root, for whom chmod does not bind)."""
    entry = toy_entry(tmp_path, server.url + "/x")
    dest = tmp_path / "data_raw"
    dest.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(AcquireError) as err:
        ensure_file(entry, dest, mirrors=[], timeout=TIMEOUT)
    assert str(err.value) == (
        f"{dest} cannot be written to (Permission denied): make {dest} "
        f"writable (chmod -R u+w {dest}) and rerun `make data`."
    )
    assert server.requests == []


def test_an_unwritable_data_raw_is_reported_once_for_the_whole_manifest(tmp_path, server, monkeypatch):
    """Many files in one unwritable folder: one line naming the folder and the fix, not one per file."""
    bodies = {f"ucr/file{i}.txt": f"{i}\n".encode() for i in range(5)}
    rows = [
        {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b), "url": server.url + "/" + p}
        for p, b in bodies.items()
    ]
    manifest = write_manifest(tmp_path / "manifest.csv", rows)
    dest = tmp_path / "data_raw"
    dest.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(AcquireError) as err:
        acquire_all(dest, manifest, [], timeout=TIMEOUT)
    assert str(err.value).splitlines() == [
        "5 of 5 raw files could not be installed:",
        f"{dest} cannot be written to (Permission denied): make {dest} writable (chmod -R u+w {dest}) "
        "and rerun `make data`.",
    ]
    assert server.requests == []


# ---- the whole manifest -------------------------------------------------------------------------


def test_acquire_all_reports_every_problem_and_stamps_only_success(tmp_path, server):
    bodies = {"a/good.csv": b"1,2\n", "a/absent.csv": b"3,4\n", "b/bad mirror.csv": b"5,6\n"}
    rows = [
        {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b), "url": server.url + "/" + quote(p)}
        for p, b in bodies.items()
    ]
    manifest = write_manifest(tmp_path / "manifest.csv", rows)
    mirror, dest = tmp_path / "mirror", tmp_path / "data_raw"
    for p, body in (("a/good.csv", b"1,2\n"), ("b/bad mirror.csv", b"5,6,7\n")):
        (mirror / p).parent.mkdir(parents=True, exist_ok=True)
        (mirror / p).write_bytes(body)
    (dest / ".verified").parent.mkdir()
    (dest / ".verified").write_text("stale\n")
    with pytest.raises(AcquireError) as err:
        acquire_all(dest, manifest, [mirror], timeout=TIMEOUT)
    lines = str(err.value).splitlines()
    assert lines[0] == "2 of 3 raw files could not be installed:"
    assert lines[1].startswith("a/absent.csv: ") and "HTTP status 404" in lines[1]
    assert lines[2].startswith("b/bad mirror.csv: the copy from mirror ")
    assert files_under(dest) == ["a/good.csv"]  # the good file is kept, the stale stamp removed
    server.files.update(bodies)
    (mirror / "b/bad mirror.csv").unlink()
    assert acquire_all(dest, manifest, [mirror], timeout=TIMEOUT) == {"present": 1, "download": 2}
    assert (dest / ".verified").read_text() == "".join(f"{r['sha256']}  {r['path']}\n" for r in rows)


def test_cli_copies_the_real_manifest_then_stops_on_an_edited_file(tmp_path, raw_mirror):
    env = {**os.environ, "DATA_MIRROR": str(raw_mirror)}
    cmd = [
        sys.executable,
        "-m",
        "analysis.acquire",
        "--dest",
        str(tmp_path),
        "--timeout",
        "1",
        "--base-url",
        "http://127.0.0.1:9/",
    ]  # never used: every file is in the mirror
    done = subprocess.run(cmd, cwd=config.ROOT, env=env, capture_output=True, text=True, timeout=120)
    entries = read_manifest(config.MANIFEST)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"{len(entries)} raw files verified in {tmp_path}: 0 present, {len(entries)} copied from a mirror, 0 downloaded"
    )
    assert files_under(tmp_path) == sorted([".verified"] + [e.path for e in entries])
    edited = tmp_path / entries[0].path
    edited.write_bytes(edited.read_bytes() + b"\n")
    done = subprocess.run(cmd, cwd=config.ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(
        f"error: 1 of {len(entries)} raw files could not be installed:\n{entries[0].path}: {edited} has sha256 "
    )
    assert not (tmp_path / ".verified").exists() and edited.read_bytes().endswith(b"\n\n")


def test_committed_manifest_entries_are_pinned_and_installed():
    """Every entry names a pinned GitHub commit and known terms, and data_raw/ (installed by
    acquisition from a mirror or the pinned URLs) holds it with the manifest's size."""
    entries = read_manifest(config.MANIFEST)
    for entry in entries:
        assert (config.DATA_RAW / entry.path).stat().st_size == entry.bytes, entry.path
        repo, commit = entry.source.split("@")
        if repo.startswith("npm:"):  # an npm package pinned by version, served by jsDelivr
            assert entry.url.startswith(f"https://cdn.jsdelivr.net/npm/{repo[4:]}@{commit}/"), entry.path
        else:
            assert entry.url.startswith(f"https://raw.githubusercontent.com/{repo}/{commit}/"), entry.path
        assert entry.redistribution in {
            "public domain",
            "ICPSR terms: do not redistribute",
            "CC BY-NC-SA 4.0",
            "unspecified: ask authors",
            "ISC: keep the licence notice",
        }, entry.path
    paths = [e.path for e in entries]
    assert sum(p.endswith("-0004-Data.txt") for p in paths) == 13
    assert sum("/participatingAgencies/" in p for p in paths) == 68
    assert not [p for p in paths if "reta2013" in p or p.endswith("ucr_agencies_list.csv")]
    assert {"geo/us-atlas/counties-albers-10m.json", "geo/us-atlas/LICENSE"} <= set(paths)
