"""Measuring the player as a client's browser experiences it.

- `TransferMeter` adds up the bytes that crossed the network for a page (Chromium's own count of
  each response's encoded length, headers included, from DevTools protocol Network events),
  with audio and video streams kept apart from everything else.
- `FIRST_FRAME` is an init script that notes, in the page's own clock (milliseconds since the
  navigation started), when the player became ready to start, when Start was pressed, the first
  `loadeddata`, and the first video frame presented (`requestVideoFrameCallback`).
  `open_to_first_frame_ms` adds the page's part and leaves out the time the person (here the test
  driver) took to press Start: navigation to ready, plus Start to the first frame.
- `emulate_network` slows a page's network down (throughput and latency).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Page

MEDIA_TYPES = ("video/", "audio/")

FIRST_FRAME = """
(() => {
  const marks = { ready: null, start: null, loadeddata: null, frame: null, play: null };
  window.__revisitMarks = marks;
  new MutationObserver((changes) => {
    for (const change of changes) {
      const el = change.target;
      if (marks.ready === null && el.matches('[data-start]') && !el.disabled) {
        marks.ready = performance.now();
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['disabled'] });
  document.addEventListener('click', (event) => {
    if (marks.start === null && event.target.closest('[data-start]')) {
      marks.start = performance.now();
    }
  }, true);
  const watch = (video) => {
    if (video.__revisitWatched || !video.requestVideoFrameCallback) return;
    video.__revisitWatched = true;
    video.requestVideoFrameCallback((now) => { if (marks.frame === null) marks.frame = now; });
  };
  document.addEventListener('loadeddata', (event) => {
    if (marks.loadeddata === null) marks.loadeddata = performance.now();
    if (event.target instanceof HTMLVideoElement) watch(event.target);
  }, true);
  document.addEventListener('play', (event) => {
    if (marks.play === null) marks.play = performance.now();
    if (event.target instanceof HTMLVideoElement) watch(event.target);
  }, true);
})();
"""


@dataclass
class TransferMeter:
    """Bytes received by one page, from the DevTools protocol (started before navigation)."""

    session: CDPSession
    types: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)

    @classmethod
    def attach(cls, context: BrowserContext, page: Page) -> TransferMeter:
        meter = cls(context.new_cdp_session(page))
        meter.session.on("Network.responseReceived", meter._response)
        meter.session.on("Network.dataReceived", meter._data)
        meter.session.on("Network.loadingFinished", meter._finished)
        meter.session.send("Network.enable")
        return meter

    def _response(self, event: dict[str, Any]) -> None:
        self.types[event["requestId"]] = str(event["response"].get("mimeType", ""))
        self.urls[event["requestId"]] = str(event["response"]["url"])

    def _data(self, event: dict[str, Any]) -> None:
        rid = event["requestId"]
        if rid not in self.finished:
            self.received[rid] = self.received.get(rid, 0) + int(event["encodedDataLength"])

    def _finished(self, event: dict[str, Any]) -> None:
        rid = event["requestId"]
        self.finished.add(rid)
        self.received[rid] = int(event["encodedDataLength"])  # the final, complete count

    def is_media(self, rid: str) -> bool:
        return self.types.get(rid, "").startswith(MEDIA_TYPES)

    def totals(self) -> dict[str, Any]:
        page = {rid: n for rid, n in self.received.items() if not self.is_media(rid)}
        media = {rid: n for rid, n in self.received.items() if self.is_media(rid)}
        by_type: dict[str, int] = {}
        for rid, n in page.items():
            kind = self.types.get(rid, "other").split(";")[0] or "other"
            by_type[kind] = by_type.get(kind, 0) + n
        return {
            "page_bytes": sum(page.values()),
            "page_requests": len(page),
            "page_bytes_by_type": by_type,
            "media_bytes": sum(media.values()),
            "media_requests": len(media),
        }


def emulate_network(
    context: BrowserContext, page: Page, *, kbit_s: float, latency_ms: float
) -> CDPSession:
    """Chromium's network throttling for one page: both directions at `kbit_s`."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    bytes_per_s = kbit_s * 1000 / 8
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": latency_ms,
            "downloadThroughput": bytes_per_s,
            "uploadThroughput": bytes_per_s,
        },
    )
    return session


def marks(page: Page) -> dict[str, float | None]:
    found: dict[str, float | None] = page.evaluate("() => ({ ...window.__revisitMarks })")
    return found


def open_to_first_frame_ms(found: dict[str, float | None]) -> float | None:
    ready, start, frame = found.get("ready"), found.get("start"), found.get("frame")
    if ready is None or start is None or frame is None:
        return None
    return round(ready + (frame - start), 1)
