"""Upload load over loopback: a small tus client on `http.client` and the media it sends.

Benchmarks and tests that talk to a real server (``revisit.testing.server.RevisitServer``) use it
to control each request exactly, which a full client such as tuspy does not allow:

- :class:`TusSession` creates uploads and asks HEAD, with a Bearer token;
- :meth:`TusSession.start_patch` sends a PATCH's headers and returns a :class:`PendingPatch`
  that sends the body piece by piece (or straight from a file with ``sendfile``), notices when
  the server answered early, can go away mid-body like a dropped connection, and reads the reply;
- :func:`write_wav` writes a valid PCM WAV of an exact size in constant memory, media that the
  server's probe accepts whatever its size;
- :func:`stored_recordings_script` is Python for ``revisit manage shell -c`` that decrypts
  recordings on the server's side and prints their SHA-256 (:func:`parse_stored_recordings`).

Everything runs in constant memory, so a client of a large upload does not distort the figures
of the server beside it.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import select
import socket
import struct
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final
from urllib.parse import urlsplit

TUS_HEADERS: Final = {"Tus-Resumable": "1.0.0"}
OFFSET_OCTET_STREAM: Final = "application/offset+octet-stream"
WAV_HEADER_LEN: Final = 44
_SEND_PIECE: Final = 256 * 1024
_FILE_BLOCK: Final = 1 << 20


@dataclass(frozen=True)
class Reply:
    """A response: its status, headers by lower-case name, and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def _metadata(pairs: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def _read_reply(response: http.client.HTTPResponse) -> Reply:
    headers = {name.lower(): value for name, value in response.getheaders()}
    return Reply(response.status, headers, response.read())


class PendingPatch:
    """A PATCH whose headers are sent; its body goes out with :meth:`send` or :meth:`send_file`.

    Once the server has answered (say 409 before reading the body), :meth:`send` stops and
    returns False; :meth:`finish` then reads that answer. :meth:`abort` closes the connection
    without finishing the body, as a client whose network went away.
    """

    def __init__(self, conn: http.client.HTTPConnection, *, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout
        self.answered_early = False
        self.sent = 0

    @property
    def _sock(self) -> socket.socket:
        sock = self._conn.sock
        if sock is None:
            raise ConnectionError("the connection is closed")
        return sock

    def send(self, data: bytes | memoryview) -> bool:
        """Send ``data``; False (and nothing more sent) once the server has answered."""
        view = memoryview(data).cast("B")
        sock = self._sock
        while view:
            readable, writable, _ = select.select([sock], [sock], [], self._timeout)
            if readable:
                self.answered_early = True
                return False
            if not writable:
                raise TimeoutError("the server stopped reading the request body")
            try:
                count = sock.send(view[:_SEND_PIECE])
            except (BrokenPipeError, ConnectionResetError):
                self.answered_early = True
                return False
            view = view[count:]
            self.sent += count
        return True

    def send_file(self, file: BinaryIO, *, offset: int, count: int) -> None:
        """Send ``count`` bytes of ``file`` from ``offset`` with ``sendfile`` (no copies here)."""
        if count:
            self.sent += self._sock.sendfile(file, offset, count)

    def finish(self) -> Reply:
        """Read the server's answer and close the connection."""
        try:
            return _read_reply(self._conn.getresponse())
        finally:
            self._conn.close()

    def abort(self) -> None:
        """Go away mid-body: the server sees the connection close."""
        sock = self._conn.sock
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the server already went away
        finally:
            self._conn.close()


class TusSession:
    """Requests to one server's tus endpoint as one user (a fresh connection each)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 600) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError("an http:// URL with a host is needed (loopback benchmarks)")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.auth = {"Authorization": f"Bearer {token}", **TUS_HEADERS}

    def _connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
        """A request without a body (HEAD, DELETE, OPTIONS, or a POST that creates)."""
        conn = self._connection()
        try:
            conn.request(method, path, headers={**self.auth, **(headers or {})})
            return _read_reply(conn.getresponse())
        finally:
            conn.close()

    def create(self, *, client: str, title: str, length: int | None) -> str:
        """Create an upload; return its path (``/api/v1/uploads/<id>``)."""
        headers = {"Upload-Metadata": _metadata({"client": client, "title": title})}
        if length is None:
            headers["Upload-Defer-Length"] = "1"
        else:
            headers["Upload-Length"] = str(length)
        reply = self.request("POST", "/api/v1/uploads", headers)
        if reply.status != 201:
            raise RuntimeError(f"creating an upload failed: {reply.status} {reply.body[:300]!r}")
        return urlsplit(reply.headers["location"]).path

    def offset(self, path: str) -> int:
        reply = self.request("HEAD", path)
        if reply.status != 200:
            raise RuntimeError(f"HEAD answered {reply.status}")
        return int(reply.headers["upload-offset"])

    def start_patch(
        self, path: str, *, offset: int, length: int, headers: dict[str, str] | None = None
    ) -> PendingPatch:
        """Send the headers of a PATCH of ``length`` body bytes at ``offset``."""
        conn = self._connection()
        conn.putrequest("PATCH", path, skip_accept_encoding=True)
        merged = {
            **self.auth,
            "Upload-Offset": str(offset),
            "Content-Type": OFFSET_OCTET_STREAM,
            "Content-Length": str(length),
            **(headers or {}),
        }
        for name, value in merged.items():
            conn.putheader(name, value)
        conn.endheaders()
        return PendingPatch(conn, timeout=self.timeout)

    def patch(self, path: str, *, offset: int, body: bytes) -> Reply:
        """A whole PATCH of ``body`` at ``offset``."""
        pending = self.start_patch(path, offset=offset, length=len(body))
        pending.send(body)
        return pending.finish()


def wav_header(data_len: int, *, sample_rate: int = 48_000, channels: int = 2) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV whose samples are ``data_len`` bytes."""
    frame = 2 * channels
    if data_len < frame or data_len % frame:
        raise ValueError(f"a WAV needs whole frames of {frame} bytes, at least one")
    if data_len + WAV_HEADER_LEN - 8 > 0xFFFFFFFF:
        raise ValueError("a WAV file must stay below 4 GiB")
    header = b"RIFF" + struct.pack("<I", data_len + WAV_HEADER_LEN - 8) + b"WAVE"
    header += b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * frame, frame, 16
    )
    return header + b"data" + struct.pack("<I", data_len)


def write_wav(
    path: Path,
    *,
    size: int,
    blocks: Iterable[bytes],
    sample_rate: int = 48_000,
    channels: int = 2,
) -> int:
    """Write a 16-bit PCM WAV of ``size`` bytes (rounded down to whole frames); return its size.

    The samples are ``blocks`` repeated as needed (random bytes are noise, a valid signal). The
    RIFF sizes are 32-bit, so ``size`` must stay below 4 GiB.
    """
    frame = 2 * channels
    data_len = (size - WAV_HEADER_LEN) // frame * frame
    header = wav_header(data_len, sample_rate=sample_rate, channels=channels)
    with path.open("wb") as out:
        out.write(header)
        left = data_len
        for block in _cycle(blocks):
            piece = block[:left]
            out.write(piece)
            left -= len(piece)
            if not left:
                break
        out.flush()
        os.fsync(out.fileno())
    return data_len + WAV_HEADER_LEN


def _cycle(blocks: Iterable[bytes]) -> Iterator[bytes]:
    saved = [b for b in blocks if b]
    if not saved:
        raise ValueError("no sample bytes to write")
    while True:
        yield from saved


def file_pieces(path: Path, *, start: int, end: int, block: int = _FILE_BLOCK) -> Iterator[bytes]:
    """The bytes ``[start, end)`` of ``path`` in pieces of ``block`` bytes."""
    with path.open("rb") as source:
        source.seek(start)
        left = end - start
        while left > 0:
            piece = source.read(min(block, left))
            if not piece:
                raise ValueError(f"{path.name} ends before byte {end}")
            left -= len(piece)
            yield piece


@dataclass(frozen=True)
class StoredRecording:
    """What the server holds for a recording: its client, and its original's size and SHA-256."""

    id: str
    client: str
    length: int
    sha256: str


_STORED_PREFIX: Final = "stored-recording"
_STORED_SCRIPT: Final = """
import hashlib
from revisit.recordings.models import Recording
from revisit.vault.services import vault_reader
for pk in {ids!r}:
    recording = Recording.objects.select_related("client", "original").get(pk=pk)
    digest, length = hashlib.sha256(), 0
    for piece in vault_reader(recording.original).iter_all():
        digest.update(piece)
        length += len(piece)
    print({prefix!r}, pk, recording.client.email, length, digest.hexdigest())
"""


def stored_recordings_script(recording_ids: Iterable[str]) -> str:
    """Python for ``revisit manage shell -c`` printing one line per recording (ids checked)."""
    ids = [str(uuid.UUID(pk)) for pk in recording_ids]
    return _STORED_SCRIPT.format(ids=ids, prefix=_STORED_PREFIX)


def parse_stored_recordings(output: str) -> dict[str, StoredRecording]:
    """The recordings described in the output of :func:`stored_recordings_script`."""
    found: dict[str, StoredRecording] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == _STORED_PREFIX:
            found[parts[1]] = StoredRecording(parts[1], parts[2], int(parts[3]), parts[4])
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(_FILE_BLOCK):
            digest.update(block)
    return digest.hexdigest()
