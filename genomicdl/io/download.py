"""The download stage: fetch a URL or copy a path into resources/, checked and atomic.

http(s)://, ftp://, file:// and plain paths. Transient failures (timeouts, connection
errors, HTTP 5xx/429, short reads) are retried with exponential backoff; permanent ones
(404, 403, checksum mismatch, an HTML page instead of data, a truncated gzip) fail at
once with a message that says what happened. The file appears only when complete, with
its integrity record (size, mtime, SHA-256; see genomicdl.io.integrity) beside it. A
redirect to another host is logged with the final URL.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

from genomicdl.core.errors import DownloadError
from genomicdl.core.files import GZIP_MAGIC, atomic_output, gzip_intact
from genomicdl.core.runner import CONSOLE
from genomicdl.io.integrity import record_integrity

log = logging.getLogger(__name__)

TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


class _TransientError(Exception):
    """A failure worth retrying."""


def _local_path(url: str) -> Path | None:
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    if "://" not in url:
        return Path(url)
    return None


def _copy_local(src: Path, dst: Path) -> None:
    if not src.is_file():
        raise DownloadError(f"{src}: no such file (check the url in the config)")
    shutil.copyfile(src, dst)


def _log_redirect(url: str, final: str) -> None:
    """Say where the data came from when the server sent the download to another host."""
    if final and final != url and urlparse(final).netloc != urlparse(url).netloc:
        log.warning("%s was redirected to another host: data fetched from %s", url, final, extra=CONSOLE)
    elif final and final != url:
        log.info("%s was redirected to %s", url, final)


def _fetch_remote(url: str, dst: Path, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "genomicdl"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(dst, "wb") as fh:
            _log_redirect(url, response.geturl())
            expected = response.headers.get("Content-Length")
            got = 0
            while True:
                block = response.read(1 << 20)
                if not block:
                    break
                fh.write(block)
                got += len(block)
            if expected is not None and got != int(expected):
                raise _TransientError(f"short read: {got} of {expected} bytes")
    except urllib.error.HTTPError as err:
        if err.code in TRANSIENT_HTTP:
            raise _TransientError(f"HTTP {err.code} {err.reason}") from err
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason} (the server refused the file)") from err
    except TimeoutError as err:
        raise _TransientError(f"timed out after {timeout:.0f} s") from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, TimeoutError | socket.timeout):
            raise _TransientError(f"timed out after {timeout:.0f} s") from err
        if _ftp_permanent(err.reason):  # e.g. 550 no such file, 530 login refused: retrying cannot help
            raise DownloadError(f"{url}: FTP server refused the file: {err.reason}") from err
        raise _TransientError(f"{err.reason}") from err
    except (ConnectionError, OSError) as err:
        raise _TransientError(str(err)) from err


def _ftp_permanent(reason: object) -> bool:
    """An FTP 5xx reply (urllib wraps ftplib.error_perm in a URLError)."""
    text = str(reason)
    return "error_perm" in text or text.lstrip("'\"(").startswith("5")


def _looks_like_html(path: Path) -> bool:
    """The file starts like an HTML page (after a byte-order mark, blanks and comments)."""
    with open(path, "rb") as fh:
        head = fh.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    while head.startswith(b"<!--") and b"-->" in head:
        head = head[head.index(b"-->") + 3 :].lstrip()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    url: str, out: str | Path, sha256: str | None = None, retries: int = 4, timeout: float = 60.0, backoff: float = 2.0
) -> str:
    """Fetch ``url`` into ``out``; return the file's SHA-256."""
    out = Path(out)
    local = _local_path(url)
    with atomic_output(out) as tmp:
        if local is not None:
            _copy_local(local, tmp)
        else:
            for attempt in range(retries + 1):
                try:
                    _fetch_remote(url, tmp, timeout)
                    break
                except _TransientError as err:
                    if attempt == retries:
                        raise DownloadError(f"{url}: {err} (gave up after {retries + 1} attempts)") from None
                    delay = backoff * 2**attempt
                    log.warning(
                        "%s: %s; retrying in %.0f s (attempt %d of %d)", url, err, delay, attempt + 2, retries + 1
                    )
                    time.sleep(delay)
        if not url.lower().endswith((".html", ".htm")) and _looks_like_html(tmp):
            raise DownloadError(
                f"{url}: the server returned an HTML page instead of the data file (a login or error page?)"
            )
        with open(tmp, "rb") as fh:
            gz = fh.read(2) == GZIP_MAGIC
        if gz and not gzip_intact(tmp):
            raise DownloadError(f"{url}: truncated or corrupt gzip file")
        digest = _sha256(tmp)
        if sha256 and digest.lower() != sha256.lower():
            raise DownloadError(f"{url}: checksum mismatch: expected sha256 {sha256.lower()}, got {digest}")
        record_integrity(out, sha256=digest, url=url, stat_of=tmp)
        if not sha256:
            log.info("sha256 of %s: %s (add it to the config to pin this file)", url, digest, extra=CONSOLE)
        else:
            log.info("%s: sha256 verified", url)
    log.info("fetched %s -> %s (%d bytes)", url, out, out.stat().st_size)
    return digest
