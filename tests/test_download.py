"""The download stage against real servers on 127.0.0.1 (HTTP and FTP, in-process)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import threading
import time
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from genomicdl.core.errors import DownloadError
from genomicdl.io.download import fetch
from genomicdl.io.integrity import sidecar_path, verify_input

PAYLOAD = gzip.compress(b">chr1\nACGTACGTNNACGT\n" * 200, mtime=0)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /ok.fa.gz, /missing, /forbidden, /html, /truncated.gz, /flaky (503 twice),
    /slow (sleeps past the client's timeout)."""

    hits: typing.ClassVar[dict[str, int]] = {}

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/octet-stream") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/ok.fa.gz":
            self._send(200, PAYLOAD)
        elif self.path == "/missing":
            self._send(404, b"not found")
        elif self.path == "/forbidden":
            self._send(403, b"go away")
        elif self.path == "/html.fa.gz":
            self._send(200, b"<!DOCTYPE html><html><body>Please log in</body></html>", "text/html")
        elif self.path == "/html-bom.bed":
            self._send(200, b"\xef\xbb\xbf\n<!-- portal -->\n<html><body>Session expired</body></html>")
        elif self.path == "/truncated.gz":
            self._send(200, PAYLOAD[: len(PAYLOAD) // 2])
        elif self.path == "/flaky.fa.gz":
            if Handler.hits[self.path] <= 2:
                self._send(503, b"busy")
            else:
                self._send(200, PAYLOAD)
        elif self.path == "/elsewhere.fa.gz":  # a redirect to another host name
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/ok.fa.gz")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(1.5)
            self._send(200, PAYLOAD)
        else:
            self._send(404, b"")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_http_download_verifies_checksum(server: str, tmp_path: Path) -> None:
    out = tmp_path / "g.fa.gz"
    assert fetch(f"{server}/ok.fa.gz", out, SHA) == SHA
    assert out.read_bytes() == PAYLOAD


def test_missing_checksum_is_printed_for_pinning(server: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    fetch(f"{server}/ok.fa.gz", tmp_path / "g.fa.gz")
    assert SHA in caplog.text and "pin" in caplog.text


def test_transient_errors_are_retried(server: str, tmp_path: Path) -> None:
    out = tmp_path / "g.fa.gz"
    fetch(f"{server}/flaky.fa.gz", out, SHA, backoff=0.01)
    assert Handler.hits["/flaky.fa.gz"] == 3 and out.read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("path", "sha", "message"),
    [
        ("/missing", None, "HTTP 404"),
        ("/forbidden", None, "HTTP 403"),
        ("/html.fa.gz", None, "HTML page instead of the data file"),
        ("/html-bom.bed", None, "HTML page instead of the data file"),
        ("/truncated.gz", None, "truncated or corrupt gzip"),
        ("/ok.fa.gz", "0" * 64, f"expected sha256 {'0' * 64}, got {SHA}"),
    ],
)
def test_bad_downloads_fail_clearly_and_leave_nothing(
    server: str, tmp_path: Path, path: str, sha: str | None, message: str
) -> None:
    out = tmp_path / "x.gz"
    with pytest.raises(DownloadError) as err:
        fetch(f"{server}{path}", out, sha, retries=0)
    assert message in str(err.value) and path in str(err.value)
    assert list(tmp_path.iterdir()) == []  # no partial file, no temp file


def test_timeout_is_retried_then_reported(server: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"timed out.*gave up after 2 attempts"):
        fetch(f"{server}/slow", tmp_path / "x", retries=1, timeout=0.3, backoff=0.01)
    assert list(tmp_path.iterdir()) == []


def test_local_paths_and_file_urls(tmp_path: Path) -> None:
    src = tmp_path / "src.fa.gz"
    src.write_bytes(PAYLOAD)
    fetch(str(src), tmp_path / "a", SHA)
    fetch(f"file://{src}", tmp_path / "b", SHA)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == PAYLOAD
    with pytest.raises(DownloadError, match="no such file"):
        fetch(str(tmp_path / "nope.bed"), tmp_path / "c")


def test_ftp_download(tmp_path: Path) -> None:
    ftpserver = pytest.importorskip("pyftpdlib.servers")
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler

    root = tmp_path / "ftp"
    root.mkdir()
    (root / "g.fa.gz").write_bytes(PAYLOAD)
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(str(root))
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    server = ftpserver.ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    try:
        port = server.address[1]
        fetch(f"ftp://127.0.0.1:{port}/g.fa.gz", tmp_path / "out.fa.gz", SHA)
        # a missing file is a permanent FTP error (550): reported at once, not retried
        start = time.monotonic()
        with pytest.raises(DownloadError, match="FTP server refused the file") as err:
            fetch(f"ftp://127.0.0.1:{port}/nope.fa.gz", tmp_path / "nope.fa.gz", backoff=5)
        assert time.monotonic() - start < 5 and "nope.fa.gz" in str(err.value)
    finally:
        server.close_all()
    assert (tmp_path / "out.fa.gz").read_bytes() == PAYLOAD
    assert not (tmp_path / "nope.fa.gz").exists()


def test_download_records_size_mtime_and_sha256_beside_the_file(server: str, tmp_path: Path) -> None:
    out = tmp_path / "g.fa.gz"
    fetch(f"{server}/ok.fa.gz", out, SHA)
    record = json.loads(sidecar_path(out).read_text())
    assert record == {
        "size": len(PAYLOAD),
        "mtime_ns": out.stat().st_mtime_ns,
        "sha256": SHA,
        "url": f"{server}/ok.fa.gz",
    }
    verify_input(out, sha256=SHA)


def test_redirect_to_another_host_logs_the_final_url(
    server: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    port = server.rsplit(":", 1)[1]
    fetch(f"{server}/elsewhere.fa.gz", tmp_path / "g.fa.gz", SHA)
    assert f"redirected to another host: data fetched from http://localhost:{port}/ok.fa.gz" in caplog.text
