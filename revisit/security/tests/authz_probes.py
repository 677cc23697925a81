"""The questions the authorization machine asks after each step, and the answers it expects.

Each `ask_<endpoint>` sends one request as one person and compares the answer (status, and the
content that shows what they can see: lists, media maps, search hits, download or inline) with
`authz_oracle.Oracle`. A probe is one endpoint about one object; the machine asks it as everyone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from revisit.security.tests import authz_oracle as model
from revisit.security.tests.authz_oracle import Oracle
from revisit.security.tests.authz_setup import SEARCH_WORD

RECORDING_ENDPOINTS = (
    "detail",
    "transcript",
    "captions",
    "chapters",
    "speakers",
    "chapters_put",
    "search",
)
SHARE_ENDPOINTS = ("review", "progress", "bookmark_refused", "rating", "revoke_refused")
LIST_ENDPOINTS = ("recordings_list", "shares_list", "search_all")


@dataclass
class Probe:
    endpoint: str
    target: Any = None


Rendition = tuple[str, str, str, str]  # (recording, kind, variant, rendition id)


class Probes:
    """Mixed into the state machine, which provides the state and the request helpers."""

    oracle: Oracle
    renditions: dict[tuple[str, str, str], str]  # (recording, kind, variant) -> current id
    every_rendition: list[Rendition]  # every rendition ever made, current or gone
    rng: Any
    fx: Any

    def call(self, name: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        client = self.fx.clients[name]
        if method == "get":
            return client.get(path, params)
        return getattr(client, method)(path, body, content_type="application/json")

    def expect(self, name: str, response: Any, expected: int, what: str) -> None:
        status = getattr(response, "status_code", None) or response.status
        assert status == expected, (
            f"{name} ({self.oracle.people[name]}) {what}: expected {expected}, got {status}"
        )

    def refused_or(self, name: str, status: int) -> int:
        return self.oracle.refusal(name) or status

    def bookmark_status(self, name: str, key: str, allowed: int) -> int:
        share_key, owner = self.oracle.bookmarks[key]
        rec = self.oracle.recordings[self.oracle.shares[share_key].recording]
        ok = not rec.deleted and owner == name and self.oracle.reviews(name, share_key)
        return self.refused_or(name, allowed if ok else 404)

    def about_recording(self, key: str) -> list[Probe]:
        probes = [Probe(endpoint, key) for endpoint in RECORDING_ENDPOINTS]
        for rendition in self.every_rendition:
            if rendition[0] == key:
                probes += [Probe("media", rendition), Probe("media_download", rendition)]
        return probes

    def about_share(self, key: str) -> list[Probe]:
        probes = [Probe(endpoint, key) for endpoint in SHARE_ENDPOINTS]
        return probes + [
            Probe("bookmark_patch", b) for b, (s, _) in self.oracle.bookmarks.items() if s == key
        ]

    def candidates(self) -> list[Probe]:
        probes = [Probe(endpoint) for endpoint in LIST_ENDPOINTS]
        probes += [Probe("unknown", what) for what in ("recording", "media", "share", "malformed")]
        for key in self.oracle.recordings:
            probes += self.about_recording(key)
        for key in self.oracle.shares:
            probes += self.about_share(key)
        return probes

    def ask(self, name: str, probe: Probe) -> None:
        getattr(self, f"ask_{probe.endpoint}")(name, probe.target)

    # recordings

    def ask_detail(self, name: str, key: str) -> None:
        seen = self.oracle.view(name, key)
        path = f"/api/v1/recordings/{key}"
        response = self.call(name, "get", path)
        self.expect(name, response, self.refused_or(name, 200 if seen else 404), f"GET {path}")
        if response.status_code == 200:
            self.check_media_map(name, key, response.json()["renditions"], path)

    def check_media_map(self, name: str, key: str, media: dict[str, str], what: str) -> None:
        expected = self.oracle.media_map(name, key)
        assert set(media) == expected, f"{name} {what}: media {sorted(media)} != {sorted(expected)}"
        seen = self.oracle.view(name, key)
        assert seen is not None
        variant = seen.variant if seen.as_role == model.CLIENT else model.FULL
        for kind, url in media.items():
            assert url.endswith(f"/media/{self.renditions[(key, kind, variant)]}"), (name, kind)

    def _text(self, name: str, key: str, kind: str, suffix: str) -> None:
        path = f"/api/v1/recordings/{key}/{suffix}"
        allowed = self.oracle.text_of(name, key, kind)
        response = self.call(name, "get", path)
        self.expect(name, response, self.refused_or(name, 200 if allowed else 404), f"GET {path}")

    def ask_transcript(self, name: str, key: str) -> None:
        self._text(name, key, "transcript", "transcript")

    def ask_captions(self, name: str, key: str) -> None:
        self._text(name, key, "captions", "captions.vtt")

    def ask_chapters(self, name: str, key: str) -> None:
        self._text(name, key, "chapters", "chapters")

    def ask_speakers(self, name: str, key: str) -> None:
        """A correction the service refuses (no such segment): 422 for its therapist, else 404."""
        path = f"/api/v1/recordings/{key}/speakers"
        expected = self.refused_or(name, 422 if self.oracle.edits(name, key) else 404)
        response = self.call(name, "post", path, {"segment": 10**6, "speaker": "client"})
        self.expect(name, response, expected, f"POST {path}")

    def ask_chapters_put(self, name: str, key: str) -> None:
        path = f"/api/v1/recordings/{key}/chapters"
        expected = self.refused_or(name, 422 if self.oracle.edits(name, key) else 404)
        response = self.call(name, "put", path, [{"start": 5.0, "end": 1.0, "title": "Backwards"}])
        self.expect(name, response, expected, f"PUT {path}")

    def ask_search(self, name: str, key: str) -> None:
        response = self.call(name, "get", "/api/v1/search", q=SEARCH_WORD, recording=key, limit=50)
        self.expect(name, response, self.refused_or(name, 200), f"GET /api/v1/search ({key})")
        if response.status_code == 200:
            found = {hit["recording"] for hit in response.json()}
            expected = {key} if self.oracle.searchable(name, key) else set()
            assert found == expected, f"{name} searched {key}: found {found}, expected {expected}"

    def ask_search_all(self, name: str, target: None) -> None:
        response = self.call(name, "get", "/api/v1/search", q=SEARCH_WORD, limit=50)
        self.expect(name, response, self.refused_or(name, 200), "GET /api/v1/search")
        if response.status_code == 200:
            found = {hit["recording"] for hit in response.json()}
            expected = {k for k in self.oracle.recordings if self.oracle.searchable(name, k)}
            assert found == expected, f"{name} searched: found {found}, expected {expected}"

    def ask_recordings_list(self, name: str, target: None) -> None:
        response = self.call(name, "get", "/api/v1/recordings", limit=100)
        self.expect(name, response, self.refused_or(name, 200), "GET /api/v1/recordings")
        if response.status_code != 200:
            return
        items = {item["id"]: item for item in response.json()["items"]}
        expected = {k for k in self.oracle.recordings if self.oracle.listed(name, k)}
        assert set(items) == expected, f"{name} lists {sorted(items)}, expected {sorted(expected)}"
        for key, item in items.items():
            self.check_media_map(name, key, item["renditions"], "GET /api/v1/recordings")

    # renditions

    def _rendition_status(self, name: str, rendition: Rendition) -> int:
        key, kind, variant, pk = rendition
        current = self.renditions.get((key, kind, variant)) == pk
        visible = current and self.oracle.rendition_visible(name, key, kind, variant)
        return self.refused_or(name, 200 if visible else 404)

    def ask_media(self, name: str, rendition: Rendition) -> None:
        path = f"/media/{rendition[3]}"
        response = self.fx.media.get(path, self.fx.bearer[name])
        self.expect(
            name, response, self._rendition_status(name, rendition), f"GET {path} {rendition[:3]}"
        )

    def ask_media_download(self, name: str, rendition: Rendition) -> None:
        path = f"/media/{rendition[3]}"
        response = self.fx.media.get(path, self.fx.bearer[name], query="download=1")
        expected = self._rendition_status(name, rendition)
        self.expect(name, response, expected, f"GET {path}?download=1 {rendition[:3]}")
        if expected == 200:
            seen = self.oracle.view(name, rendition[0])
            assert seen is not None
            disposition = response.headers["content-disposition"].split(";")[0]
            wanted = "attachment" if seen.download else "inline"
            assert disposition == wanted, (name, rendition, seen, disposition)

    # shares

    def ask_shares_list(self, name: str, target: None) -> None:
        response = self.call(name, "get", "/api/v1/shares", limit=100)
        self.expect(name, response, self.refused_or(name, 200), "GET /api/v1/shares")
        if response.status_code != 200:
            return
        items = {item["id"]: item for item in response.json()["items"]}
        expected = self.oracle.shares_listed(name)
        assert set(items) == expected, (
            f"{name} lists shares {sorted(items)}, not {sorted(expected)}"
        )
        for key, item in items.items():
            share = self.oracle.shares[key]
            if self.oracle.share_active(share) and self.oracle.view(name, share.recording):
                self.check_media_map(name, share.recording, item["media"], "GET /api/v1/shares")
            else:
                assert item["media"] == {}, f"{name} GET /api/v1/shares: media of {key}"

    def ask_review(self, name: str, key: str) -> None:
        path = f"/api/v1/shares/{key}/review"
        allowed = self.oracle.reviews(name, key)
        response = self.call(name, "get", path)
        self.expect(name, response, self.refused_or(name, 200 if allowed else 404), f"GET {path}")
        if response.status_code == 200:
            body, rec = response.json(), self.oracle.shares[key].recording
            self.check_media_map(name, rec, body["media"], path)
            assert body["has_transcript"] == self.oracle.text_of(name, rec, "transcript"), path
            assert body["has_chapters"] == self.oracle.text_of(name, rec, "chapters"), path

    def _client_write(self, name: str, key: str, suffix: str, body: Any, allowed: int) -> None:
        path = f"/api/v1/shares/{key}/{suffix}"
        expected = self.refused_or(name, allowed if self.oracle.reviews(name, key) else 404)
        self.expect(name, self.call(name, "post", path, body), expected, f"POST {path}")

    def ask_progress(self, name: str, key: str) -> None:
        self._client_write(name, key, "progress", {"position": 0.0, "played": []}, 200)

    def ask_bookmark_refused(self, name: str, key: str) -> None:
        """A bookmark outside the recording: 422 for the share's client, 404 for anyone else."""
        self._client_write(name, key, "bookmarks", {"at": -1.0}, 422)

    def ask_rating(self, name: str, key: str) -> None:
        self._client_write(name, key, "ratings", {"helpfulness": 5, "harm": 1}, 201)

    def ask_revoke_refused(self, name: str, key: str) -> None:
        """Anyone but the share's therapist is refused (her own revocations are steps)."""
        if self.oracle.refusal(name) is None and self.oracle.revokes(name, key):
            return
        path = f"/api/v1/shares/{key}"
        expected = self.refused_or(name, 404)
        self.expect(name, self.call(name, "delete", path), expected, f"DELETE {path}")

    def ask_bookmark_patch(self, name: str, key: str) -> None:
        share_key, _ = self.oracle.bookmarks[key]
        path = f"/api/v1/shares/{share_key}/bookmarks/{key}"
        expected = self.bookmark_status(name, key, 200)
        self.expect(name, self.call(name, "patch", path, {}), expected, f"PATCH {path}")

    # ids that name nothing

    def ask_unknown(self, name: str, what: str) -> None:
        unknown = str(uuid.UUID(int=self.rng.getrandbits(128)))
        if what == "media":
            response = self.fx.media.get(f"/media/{unknown}", self.fx.bearer[name])
            path = "/media/<unknown>"
        else:
            path = {
                "recording": f"/api/v1/recordings/{unknown}",
                "share": f"/api/v1/shares/{unknown}/review",
                "malformed": "/api/v1/recordings/1'%20OR%20'1'%3D'1/transcript",
            }[what]
            response = self.call(name, "get", path)
        self.expect(name, response, self.refused_or(name, 404), f"GET {path}")
