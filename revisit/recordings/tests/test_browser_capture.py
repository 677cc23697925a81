"""The "New recording" page in a real browser (Debian Chromium) against a real Revisit server.

One server and one signed-in session serve the whole module. Uploads are slowed with Chromium's
own network throttling (DevTools protocol) so that pausing, dropping the network and reloading
happen mid-upload; the recording test uses Chromium's fake camera and microphone.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from revisit.testing.server import RevisitServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
FIXTURE = Path(__file__).resolve().parents[2] / "testing" / "fixtures" / "annomi-0-stereo.mp4"
PAGE = "/recordings/new/"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SMALL_CHUNK = 128 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RevisitServer]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    root = tmp_path_factory.mktemp("capture")
    # Its own static folder, collected from the working tree, so the page's scripts are current.
    server = RevisitServer(root / "data", extra_env={"REVISIT_STATIC_ROOT": str(root / "static")})
    server.revisit("manage", "collectstatic", "--noinput", "--verbosity", "0")
    server.prepare_demo()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(server: RevisitServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _totp(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return str(format_hotp_value(hotp_value(secret, counter)))


@pytest.fixture(scope="module")
def alice_session(server: RevisitServer, browser: Any) -> dict[str, Any]:
    """Sign in once as the demo therapist (password, then authenticator code)."""
    email = "alice@demo.revisit.test"
    password = re.search(rf"{re.escape(email)}\s+password (\S+)", server.demo_output)
    secret = re.search(
        rf"{re.escape(email)}.*?authenticator secret (\S+)", server.demo_output, re.S
    )
    assert password and secret, "the demo output names alice's password and secret"
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password.group(1))
    page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/authenticate/")
    page.fill("input[name=code]", _totp(secret.group(1)))
    page.click("main button[type=submit]")
    page.wait_for_url("**/clients/")
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


@pytest.fixture
def context(browser: Any, server: RevisitServer, alice_session: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(
        base_url=server.url, storage_state=alice_session, viewport={"width": 390, "height": 844}
    )
    try:
        yield context
    finally:
        context.close()


class Traffic:
    """The tus requests a page sends, as (method, Upload-Offset, body bytes).

    Chromium shows a request body only when the page sent bytes it had read (as it does with
    checksums on); a body streamed from a File counts as 0 here.
    """

    def __init__(self, page: Any) -> None:
        self.requests: list[tuple[str, int | None, int]] = []
        self.checksums: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if "/api/v1/uploads" not in request.url:
            return
        offset = request.headers.get("upload-offset")
        body = request.post_data_buffer
        self.requests.append(
            (request.method, None if offset is None else int(offset), len(body or b""))
        )
        if "upload-checksum" in request.headers:
            self.checksums.append(request.headers["upload-checksum"])

    def of(self, method: str) -> list[tuple[str, int | None, int]]:
        return [r for r in self.requests if r[0] == method]


def _open(
    context: Any,
    *,
    chunk: int | None = None,
    checksum: bool = False,
    upload_bytes_per_s: int | None = None,
) -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.throttle = None
    if upload_bytes_per_s is not None:
        page.throttle = _throttle(context, page, upload_bytes_per_s)
    page.goto(PAGE)
    _prepare(page, chunk=chunk, checksum=checksum)
    return page


def _prepare(page: Any, *, chunk: int | None, checksum: bool = False) -> None:
    page.select_option("[data-client-select]", label="Carol Jensen")
    page.fill("[data-title-input]", "Session 4")
    if chunk is not None:  # small fixed chunks, so that there is a middle to interrupt
        page.evaluate(
            """size => {
                const root = document.querySelector('[data-capture]');
                root.dataset.chunkSize = size;
                root.dataset.maxChunkSize = size;
            }""",
            str(chunk),
        )
    if checksum:
        page.evaluate("() => { document.querySelector('[data-capture]').dataset.checksum = 'on'; }")


def _throttle(context: Any, page: Any, bytes_per_s: int) -> Any:
    """Slow uploads down; detach the returned session to lift it (and let set_offline work)."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 5,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_s,
        },
    )
    return session


def _progress(page: Any) -> float:
    return float(page.eval_on_selector("[data-progress]", "el => el.value"))


def _wait_progress(page: Any, at_least: float, timeout_ms: int = 30000) -> None:
    page.wait_for_function(
        "n => document.querySelector('[data-progress]').value >= n",
        arg=at_least,
        timeout=timeout_ms,
    )


def _wait_done(page: Any, timeout_ms: int = 60000) -> str:
    page.wait_for_selector("[data-done]:not([hidden])", timeout=timeout_ms)
    assert "Uploaded. Processing has started." in page.inner_text("[data-done]")
    recording_id = page.get_attribute("[data-done]", "data-recording-id")
    assert recording_id
    assert page.get_attribute("[data-done-link]", "href") == f"/recordings/{recording_id}/"
    assert page.errors == []
    return str(recording_id)


def _recording(server: RevisitServer, recording_id: str) -> dict[str, Any]:
    code = (
        "import json; from revisit.recordings.models import Recording; "
        f"r = Recording.objects.select_related('client').get(pk='{recording_id}'); "
        "print(json.dumps({'duration': r.duration, 'source': r.source, "
        "'client': r.client.email, 'title': r.title, 'media': r.media_info}))"
    )
    out = server.revisit("manage", "shell", "-c", code).stdout
    found: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return found


def test_it_uploads_a_file_with_the_picker(context: Any, server: RevisitServer):
    page = _open(context)
    traffic = Traffic(page)
    started = time.monotonic()
    page.set_input_files("[data-file-input]", str(FIXTURE))
    recording_id = _wait_done(page)
    seconds = time.monotonic() - started
    assert _progress(page) == 100
    assert page.inner_text("[data-progress-text]").startswith("100%")
    assert [(m, offset) for m, offset, _ in traffic.requests] == [("POST", None), ("PATCH", 0)]
    assert traffic.checksums == []  # off for files by default (see capture.SEND_CHECKSUMS)
    found = _recording(server, recording_id)
    assert found["source"] == "upload" and found["client"] == "carol@demo.revisit.test"
    assert found["title"] == "Session 4"
    assert found["duration"] == pytest.approx(79.28, abs=0.1)
    print(f"\nupload of {FIXTURE.stat().st_size / 1e6:.2f} MB took {seconds:.2f} s in the browser")


def test_it_pauses_resumes_and_survives_a_network_drop(context: Any, server: RevisitServer):
    page = _open(context, chunk=SMALL_CHUNK, upload_bytes_per_s=300_000)
    traffic = Traffic(page)
    page.set_input_files("[data-file-input]", str(FIXTURE))
    _wait_progress(page, 10)

    page.click("[data-pause]")
    page.wait_for_selector("[data-resume]:not([hidden])")
    assert "Paused" in page.inner_text("[data-status]")
    paused_at = _progress(page)
    sent_while_paused = len(traffic.requests)
    page.wait_for_timeout(1500)
    assert _progress(page) == paused_at and len(traffic.requests) == sent_while_paused

    page.click("[data-resume]")
    page.wait_for_selector("[data-pause]:not([hidden])")
    assert traffic.requests[sent_while_paused][0] == "HEAD"  # asks the server where it stands
    _wait_progress(page, paused_at + 15)

    page.throttle.detach()  # Chromium keeps this session's conditions over set_offline's
    context.set_offline(True)
    page.wait_for_function(
        "() => document.querySelector('[data-status]').textContent.includes('connection dropped')",
        timeout=15000,
    )
    dropped_at = _progress(page)
    requests_at_drop = len(traffic.requests)
    page.wait_for_timeout(3000)
    assert _progress(page) == dropped_at
    context.set_offline(False)
    recording_id = _wait_done(page)
    assert dropped_at < 100
    after_drop = [offset for method, offset, _ in traffic.requests[requests_at_drop:] if offset]
    assert after_drop and min(after_drop) >= SMALL_CHUNK  # continued, not from byte 0
    assert _progress(page) == 100
    assert _recording(server, recording_id)["duration"] == pytest.approx(79.28, abs=0.1)
    assert len(traffic.of("POST")) == 1  # one upload, continued, not started again


def test_it_resumes_from_the_servers_offset_after_a_reload(context: Any, server: RevisitServer):
    page = _open(context, chunk=SMALL_CHUNK, checksum=True, upload_bytes_per_s=250_000)
    before = Traffic(page)
    page.set_input_files("[data-file-input]", str(FIXTURE))
    _wait_progress(page, 35)
    page.reload()
    after = Traffic(page)
    _prepare(page, chunk=SMALL_CHUNK, checksum=True)
    assert "did not finish" in page.inner_text("[data-pending-note]")
    page.set_input_files("[data-file-input]", str(FIXTURE))
    page.wait_for_function(
        "() => document.querySelector('[data-status]').textContent"
        ".includes('Continuing an earlier upload of this file from')"
    )
    recording_id = _wait_done(page)

    size = FIXTURE.stat().st_size
    assert len(before.of("POST")) == 1 and after.of("POST") == []
    assert after.requests[0][0] == "HEAD"
    first_offset = after.of("PATCH")[0][1]
    assert first_offset is not None and first_offset >= 0.3 * size
    assert sum(length for _, _, length in after.of("PATCH")) == size - first_offset
    # this upload also sent each chunk's SHA-256 (the tus checksum extension)
    assert len(after.checksums) == len(after.of("PATCH"))
    assert all(re.fullmatch(r"sha256 [A-Za-z0-9+/]{43}=", c) for c in after.checksums)
    assert _recording(server, recording_id)["duration"] == pytest.approx(79.28, abs=0.1)


def test_it_records_in_the_browser_while_uploading(context: Any, server: RevisitServer):
    context.grant_permissions(["camera", "microphone"])
    page = _open(context)
    traffic = Traffic(page)
    page.check("[data-method][value=record]")
    page.click("[data-rec-start]")
    assert "Tick the box to confirm Carol Jensen" in page.inner_text("[data-error]")
    page.check("[data-rec-confirm]")
    page.click("[data-rec-start]")
    page.wait_for_selector("[data-rec-live]:not([hidden])")
    assert "Recording" in page.inner_text(".rec-indicator")
    page.wait_for_timeout(7000)
    # the network drops for 6 s mid-session: the pieces wait in the page and go up afterwards
    context.set_offline(True)
    page.wait_for_function(
        "() => document.querySelector('[data-status]').textContent.includes('connection dropped')",
        timeout=10000,
    )
    page.wait_for_timeout(6000)
    context.set_offline(False)
    page.wait_for_timeout(8000)
    minutes, seconds = page.inner_text("[data-rec-elapsed]").split(":")
    assert 20 <= int(minutes) * 60 + int(seconds) <= 40
    patches_while_recording = len(traffic.of("PATCH"))
    page.click("[data-rec-stop]")
    recording_id = _wait_done(page)

    assert patches_while_recording >= 6  # the ~2 s pieces went up while recording
    assert len(traffic.checksums) == len([p for p in traffic.of("PATCH") if p[2]])
    assert traffic.of("POST") and len(traffic.of("POST")) == 1
    found = _recording(server, recording_id)
    assert found["source"] == "browser"
    assert found["duration"] >= 19
    assert found["media"]["has_video"] is True
    print(f"\nbrowser recording: {found['duration']:.1f} s, {found['media']}")


def _start_recording(page: Any, *, kind: str, other_side: bool = False) -> None:
    page.check("[data-method][value=record]")
    page.check(f"[data-rec-kind][value={kind}]")
    if other_side:
        page.check("[data-rec-other]")
    page.check("[data-rec-confirm]")
    page.click("[data-rec-start]")
    page.wait_for_selector("[data-rec-live]:not([hidden])")


def test_it_keeps_what_a_closed_tab_had_recorded(context: Any, server: RevisitServer):
    context.grant_permissions(["microphone"])
    page = _open(context)
    traffic = Traffic(page)
    _start_recording(page, kind="audio")
    deadline = time.monotonic() + 20
    while len(traffic.of("PATCH")) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    page.wait_for_timeout(500)  # let the third piece's answer arrive
    page.close()  # no Stop: the tab is simply closed mid-session

    again = _open(context)
    again.wait_for_selector("[data-recover]:not([hidden])")
    assert "reached the server" in again.inner_text("[data-recover]")
    again.click("[data-recover-keep]")
    recording_id = _wait_done(again)
    found = _recording(server, recording_id)
    assert found["source"] == "browser" and found["media"]["has_video"] is False
    assert found["duration"] >= 4  # at least the three ~2 s pieces that were sent


# Stands in for the person choosing a tab in the screen-share dialog, which a headless browser
# cannot show: "the other side" is a 440 Hz tone with a blank picture.
OTHER_SIDE_TONE = """
navigator.mediaDevices.getDisplayMedia = async () => {
  const context = new AudioContext();
  const tone = context.createOscillator();
  tone.frequency.value = 440;
  const destination = context.createMediaStreamDestination();
  tone.connect(destination);
  tone.start();
  const canvas = document.createElement("canvas");
  canvas.getContext("2d").fillRect(0, 0, canvas.width, canvas.height);
  return new MediaStream([
    ...canvas.captureStream(5).getVideoTracks(),
    ...destination.stream.getAudioTracks(),
  ]);
};
"""

CHANNEL_SHARES = """
import json, subprocess
import numpy as np
from revisit.recordings.models import Recording
from revisit.vault.services import vault_read_bytes
recording = Recording.objects.select_related("original").get(pk="{id}")
pcm = subprocess.run(
    ["ffmpeg", "-v", "error", "-i", "pipe:0", "-vn", "-ar", "8000", "-f", "f32le", "pipe:1"],
    input=vault_read_bytes(recording.original), capture_output=True, check=True, timeout=60,
).stdout
samples = np.frombuffer(pcm, dtype="<f4").reshape(-1, 2)
def share(channel):
    power = np.abs(np.fft.rfft(channel)) ** 2
    freqs = np.fft.rfftfreq(len(channel), 1 / 8000)
    return float(power[(freqs > 430) & (freqs < 450)].sum() / max(power.sum(), 1e-12))
print(json.dumps({{"left": share(samples[:, 0]), "right": share(samples[:, 1])}}))
"""


def test_it_records_the_other_side_on_the_right_channel(context: Any, server: RevisitServer):
    context.grant_permissions(["microphone"])
    context.add_init_script(OTHER_SIDE_TONE)
    page = _open(context)
    _start_recording(page, kind="audio", other_side=True)
    page.wait_for_timeout(5000)
    page.click("[data-rec-stop]")
    recording_id = _wait_done(page)
    found = _recording(server, recording_id)
    assert found["media"]["audio"]["channels"] == 2
    out = server.revisit("manage", "shell", "-c", CHANNEL_SHARES.format(id=recording_id)).stdout
    shares = json.loads(out.strip().splitlines()[-1])
    # the tone (the other side) is on the right; the fake microphone's beeps are on the left
    print(f"\nshare of power at 440 Hz: {shares}")
    assert shares["right"] > 0.5 and shares["left"] < 0.1, shares


def test_it_shows_the_servers_reason_when_a_file_is_refused(context: Any, server: RevisitServer):
    page = _open(context)
    not_media = b"These are session notes, not a recording.\n" * 2000
    page.set_input_files(
        "[data-file-input]",
        files=[{"name": "session.mp4", "mimeType": "video/mp4", "buffer": not_media}],
    )
    page.wait_for_selector("[data-error]:not([hidden])", timeout=30000)
    message = page.inner_text("[data-error]")
    print(f"\nrefusal shown: {message!r}")
    assert "HTTP 422" not in message  # the server's own words (its problem `detail`), not a code
    assert "audio or video" in message
    assert page.is_hidden("[data-done]") and page.is_hidden("[data-transfer]")
    assert page.is_enabled("[data-file-input]")  # free to choose the right file
