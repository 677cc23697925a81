"""The questions the authorization machine asks after each step, and the answers it expects.

Each `ask_<endpoint>` sends one request as one person and compares the answer (status, and the
content that shows what they can see: lists, media maps, search hits, download or inline) with
`authz_oracle.Oracle`. A probe is one endpoint about one object. `Probes.sweep` makes the probes
of one step: every endpoint of the catalogue below at least once (bookmark_patch while a bookmark
exists), about what the step touched where the endpoint applies to it, each with the one person
`Probes.askers` chooses from the model to catch leaks and wrong denials alike: 21 requests (22).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from revisit.security.tests import authz_oracle as model
from revisit.security.tests.authz_oracle import Oracle
from revisit.security.tests.authz_setup import SEARCH_WORD
from revisit.security.tests.authz_world import NAMES

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
UNKNOWN = ("recording", "media", "share", "malformed")  # ids that name nothing


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
        return self.fx.api.call(name, method, path, body, params)

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

    # --- the sweep after every step ------------------------------------------------------------

    def sweep(self, touched: tuple[str, str | None] | None) -> list[tuple[Probe, str]]:
        """Every endpoint once, each with the person who asks it.

        The recording endpoints and both media endpoints are about the focus recording (one of
        its renditions, current or replaced, for media), the share endpoints about the focus
        share, bookmark_patch about one of that share's bookmarks (or any, while one exists);
        the lists are asked with the focus objects in mind and the unknown-id probes as anyone.
        """
        recording, share, person = self.focus(touched)
        renditions = [r for r in self.every_rendition if r[0] == recording]
        about_recording = [Probe(endpoint, recording) for endpoint in RECORDING_ENDPOINTS]
        about_recording += [
            Probe("media", self.rng.choice(renditions)),
            Probe("media_download", self.rng.choice(renditions)),
        ]
        about_share = [Probe(endpoint, share) for endpoint in SHARE_ENDPOINTS]
        marks = sorted(self.oracle.bookmarks)
        if marks:
            own = [b for b in marks if self.oracle.bookmarks[b][0] == share]
            about_share.append(Probe("bookmark_patch", self.rng.choice(own or marks)))
        lists = [
            Probe("recordings_list", recording),
            Probe("search_all", recording),
            Probe("shares_list", share),
        ]
        asks = self.askers(about_recording, person) + self.askers(about_share, person)
        asks += self.askers(lists, person)
        anyone = self.rng.sample(NAMES, len(UNKNOWN))
        return asks + [
            (Probe("unknown", what), name) for what, name in zip(UNKNOWN, anyone, strict=True)
        ]

    def focus(self, touched: tuple[str, str | None] | None) -> tuple[str, str, str | None]:
        """The recording and share the sweep asks about, and the person whose rights changed.

        What the step touched where it can: a touched share (made, revoked, run out, bookmarked),
        its recording and its client; a touched recording and one of its shares; for a person, a
        recording they are the client, therapist or supervisor of; for an emergency-access grant,
        its admin and a recording of its client. Anything left open is drawn at random."""
        oracle, rng = self.oracle, self.rng
        kind, key = touched if touched is not None else ("", None)
        if kind == "share" and key is not None:
            share = oracle.shares[key]
            return share.recording, key, share.client
        person, related = None, []
        if kind == "recording" and key is not None:
            related = [key]
        elif kind == "person" and key is not None:
            person, related = key, [k for k in oracle.recordings if self._concerns(key, k)]
        elif kind == "grant" and key is not None:
            grant = oracle.grants[key]
            person = grant.admin
            related = [k for k, r in oracle.recordings.items() if r.client == grant.client]
        recording = rng.choice(sorted(related or oracle.recordings))
        theirs = sorted(k for k, s in oracle.shares.items() if s.recording == recording)
        return recording, rng.choice(theirs or sorted(oracle.shares)), person

    def _concerns(self, name: str, key: str) -> bool:
        rec = self.oracle.recordings[key]
        supervised = (name, rec.therapist) in self.oracle.supervision
        return name in (rec.client, rec.therapist) or supervised

    def askers(self, probes: list[Probe], person: str | None) -> list[tuple[Probe, str]]:
        """One person per probe, chosen to catch both leaks and wrong denials.

        Along the probes the choice alternates between someone the rules let through and someone
        they keep out (people of the object's own practice first: their refusals are the subtle
        ones); a side the rules leave empty gives way to the other. One probe of the group is
        asked by someone of the other practice and one by the person the step changed (if any).
        Within a side, whoever has not yet asked in this group goes first, so that most people
        of the practice ask something about the object at every step. revoke_refused is only
        ever asked by people who may not revoke (a revocation is a step of its own)."""
        rng, practice_of = self.rng, self.fx.practice
        let_in = rng.random() < 0.5
        outsider, changed = rng.sample(range(len(probes)), 2)
        asked: set[str] = set()
        asks = []
        for i, probe in enumerate(probes):
            practice = self.practice_of(probe)
            granted = [n for n in NAMES if self.lets_in(n, probe)]
            denied = [n for n in NAMES if n not in granted]
            if probe.endpoint == "revoke_refused":
                granted = []
            if i == outsider and practice is not None:
                pool = [n for n in denied if practice_of[n] != practice]
            elif i == changed and person in denied + granted:
                pool = [person]
            else:
                near = [n for n in denied if practice_of[n] == practice]
                pool = granted if (let_in and granted) or not denied else (near or denied)
                let_in = not let_in
            name = rng.choice([n for n in pool if n not in asked] or pool)
            asked.add(name)
            asks.append((probe, name))
        return asks

    def lets_in(self, name: str, probe: Probe) -> bool:
        """Whether the rules let `name` through this probe (an answer that shows or does
        something); for a list, whether it shows the probe's focus object."""
        oracle, target = self.oracle, probe.target
        if oracle.refusal(name) is not None:
            return False
        endpoint = probe.endpoint
        if endpoint == "detail":
            return oracle.view(name, target) is not None
        if endpoint in ("transcript", "captions", "chapters"):
            return oracle.text_of(name, target, endpoint)
        if endpoint in ("speakers", "chapters_put"):
            return oracle.edits(name, target)
        if endpoint in ("search", "search_all"):
            return oracle.searchable(name, target)
        if endpoint == "recordings_list":
            return oracle.listed(name, target)
        if endpoint == "shares_list":
            return target in oracle.shares_listed(name)
        if endpoint in ("media", "media_download"):
            return self._rendition_status(name, target) == 200
        if endpoint == "revoke_refused":
            return oracle.revokes(name, target)
        if endpoint == "bookmark_patch":
            return self.bookmark_status(name, target, 200) == 200
        return oracle.reviews(name, target)  # the client's side of a share

    def practice_of(self, probe: Probe) -> str | None:
        """The practice of the object a probe is about (None for unknown ids)."""
        target, oracle = probe.target, self.oracle
        if probe.endpoint in ("media", "media_download"):
            target = target[0]
        if target in oracle.recordings:
            return oracle.recordings[target].practice
        if target in oracle.shares:
            return oracle.shares[target].practice
        if target in oracle.bookmarks:
            return oracle.shares[oracle.bookmarks[target][0]].practice
        return None

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

    def ask_search_all(self, name: str, target: object) -> None:
        response = self.call(name, "get", "/api/v1/search", q=SEARCH_WORD, limit=50)
        self.expect(name, response, self.refused_or(name, 200), "GET /api/v1/search")
        if response.status_code == 200:
            found = {hit["recording"] for hit in response.json()}
            expected = {k for k in self.oracle.recordings if self.oracle.searchable(name, k)}
            assert found == expected, f"{name} searched: found {found}, expected {expected}"

    def ask_recordings_list(self, name: str, target: object) -> None:
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

    def ask_shares_list(self, name: str, target: object) -> None:
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
