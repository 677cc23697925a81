"""An independent model of who may see what, for the authorization state machine.

Written from the rules as documented, never by calling the code under test:

- revisit/review/access.py's docstring: a recording's therapist sees everything (the full
  version); a supervisor of that therapist sees the full version while the client's supervision
  consent stands, without download; its client sees, while an active share exists (not expired,
  not revoked), their version (held-back ranges removed once anything is held back) within the
  share's options; a practice admin with an active emergency-access grant for its client sees the
  full version, read-only, never as a download; anyone else sees nothing and learns nothing.
- ARCHITECTURE.md: nothing crosses practices; a request for something out of reach is 404, never
  403; staff without a second factor are refused (403) by the API; revoking works on the next
  request.
- revisit/recordings/consent.py: withdrawing client_review ends the client's shares at once;
  withdrawing transcription shreds their transcripts, captions, chapters and search indexes.
- revisit/recordings/client_version.py: a change to what is held back withdraws the client's
  version at once; until it is rebuilt the client can fetch nothing of the recording.
- The lists (recordings, shares, search) show what a person reaches by their own role: their
  recordings, their supervisees' with consent, what is shared with them. Emergency access opens
  recordings one by one (by id, from the emergency-access pages), never through a list.

Everything here is plain Python: people and objects are named by keys, time is a number of hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

THERAPIST, CLIENT, SUPERVISOR, ADMIN = "therapist", "client", "supervisor", "admin"
ROLES = (THERAPIST, CLIENT, SUPERVISOR, ADMIN)
STAFF = frozenset({THERAPIST, SUPERVISOR, ADMIN})
SCOPES = ("recording", "client_review", "supervision", "transcription", "research")
FULL, CLIENT_VERSION = "full", "client"

MEDIA_KINDS = ("video", "audio", "poster", "waveform")
TEXT_KINDS = ("transcript", "captions", "chapters", "search")
KINDS = MEDIA_KINDS + TEXT_KINDS
# What GET /recordings/{id} lists under `renditions`: what a player fetches directly.
MAP_KINDS = frozenset({"video", "audio", "poster", "captions", "waveform"})

SHARE_DEFAULT_HOURS = 30 * 24  # the practice's default (Practice.share_days_default)
SHARE_MAX_HOURS = 3650 * 24
GRANT_MAX_MINUTES = 4 * 60


@dataclass
class Person:
    practice: str
    role: str
    mfa: bool
    active: bool = True


@dataclass
class Rec:
    practice: str
    therapist: str
    client: str
    holdbacks: int = 0
    client_version: bool = False  # the client's version (held back) has been built
    client_text: bool = False  # ...and carries transcripts
    transcripts: bool = True  # the full version's transcripts exist (not shredded)
    deleted: bool = False

    def exists(self, kind: str, variant: str) -> bool:
        """Whether a rendition of this kind and variant exists now."""
        if self.deleted:
            return False
        text_ok = self.transcripts if variant == FULL else self.client_text
        if variant == CLIENT_VERSION and not self.client_version:
            return False
        return kind in MEDIA_KINDS or text_ok


@dataclass
class ShareModel:
    recording: str
    client: str
    created_by: str
    practice: str
    serial: int  # creation order: the newest active share decides the client's options
    expires_at: float  # hours on the model's clock
    revoked: bool = False
    video: bool = True
    transcript: bool = True
    download: bool = False


@dataclass
class Grant:
    """An emergency-access grant (revisit.breakglass)."""

    admin: str
    client: str
    practice: str
    expires_at: float
    ended: bool = False


@dataclass(frozen=True)
class View:
    """What one person sees of one recording, and as whom."""

    variant: str
    as_role: str
    video: bool = True
    transcript: bool = True
    download: bool = True

    def allows(self, kind: str) -> bool:
        if kind in ("video", "poster"):
            return self.video
        if kind in TEXT_KINDS:
            return self.transcript
        return True


@dataclass
class Oracle:
    people: dict[str, Person]
    caseload: set[tuple[str, str]]  # (therapist, client)
    supervision: set[tuple[str, str]]  # (supervisor, therapist)
    consents: dict[str, set[str]] = field(default_factory=dict)
    recordings: dict[str, Rec] = field(default_factory=dict)
    shares: dict[str, ShareModel] = field(default_factory=dict)
    bookmarks: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (share, client)
    grants: dict[str, Grant] = field(default_factory=dict)
    now: float = 0.0
    serial: int = 0

    # --- who is asking -----------------------------------------------------------------------

    def refusal(self, name: str) -> int | None:
        """401 for a deactivated account, 403 for staff without a second factor, else None."""
        person = self.people[name]
        if not person.active:
            return 401
        if person.role in STAFF and not person.mfa:
            return 403
        return None

    def consented(self, client: str, scope: str) -> bool:
        return scope in self.consents.get(client, set())

    # --- recordings ---------------------------------------------------------------------------

    def share_active(self, share: ShareModel) -> bool:
        return not share.revoked and share.expires_at > self.now

    def newest_active_share(self, client: str, recording: str) -> ShareModel | None:
        active = [
            s
            for s in self.shares.values()
            if s.client == client and s.recording == recording and self.share_active(s)
        ]
        return max(active, key=lambda s: s.serial) if active else None

    def grant_active(self, grant: Grant) -> bool:
        return not grant.ended and grant.expires_at > self.now

    def emergency_view(self, name: str, rec: Rec) -> View | None:
        """Break-glass: a practice admin's active grant for the recording's client."""
        person = self.people[name]
        if person.role != ADMIN:
            return None
        for grant in self.grants.values():
            if grant.admin == name and grant.client == rec.client and self.grant_active(grant):
                return View(FULL, ADMIN, download=False)
        return None

    def view(self, name: str, key: str) -> View | None:
        """What `name` may see of recording `key` (None: nothing, and no hint it exists)."""
        person, rec = self.people[name], self.recordings[key]
        if rec.deleted or not person.active or person.practice != rec.practice:
            return None
        if person.role == THERAPIST and rec.therapist == name:
            return View(FULL, THERAPIST)
        if person.role == SUPERVISOR:
            if (name, rec.therapist) in self.supervision and self.consented(
                rec.client, "supervision"
            ):
                return View(FULL, SUPERVISOR, download=False)
            return None
        if person.role == CLIENT and rec.client == name:
            share = self.newest_active_share(name, key)
            if share is None:
                return None
            variant = CLIENT_VERSION if rec.holdbacks else FULL
            return View(variant, CLIENT, share.video, share.transcript, share.download)
        return self.emergency_view(name, rec)

    def listed(self, name: str, key: str) -> bool:
        """Whether the recordings list (and search) include it: reached by role, not by grant."""
        seen = self.view(name, key)
        return seen is not None and seen.as_role != ADMIN

    def rendition_visible(self, name: str, key: str, kind: str, variant: str) -> bool:
        """Whether GET /media/<that rendition> streams it to `name`."""
        seen = self.view(name, key)
        if seen is None or not seen.allows(kind) or not self.recordings[key].exists(kind, variant):
            return False
        return seen.as_role != CLIENT or variant == seen.variant

    def text_of(self, name: str, key: str, kind: str) -> bool:
        """Whether the API reads this text rendition (transcript, captions, chapters) for them."""
        seen = self.view(name, key)
        return (
            seen is not None
            and seen.allows(kind)
            and self.recordings[key].exists(kind, seen.variant)
        )

    def media_map(self, name: str, key: str) -> set[str]:
        """The kinds GET /recordings/{id} lists under `renditions` (its player's sources)."""
        seen = self.view(name, key)
        if seen is None:
            return set()
        variant = seen.variant if seen.as_role == CLIENT else FULL
        rec = self.recordings[key]
        return {k for k in MAP_KINDS if seen.allows(k) and rec.exists(k, variant)}

    def searchable(self, name: str, key: str) -> bool:
        seen = self.view(name, key)
        return (
            self.listed(name, key)
            and seen is not None
            and seen.allows("search")
            and self.recordings[key].exists("search", seen.variant)
        )

    def edits(self, name: str, key: str) -> bool:
        """Corrections (speakers, chapters) are for the recording's own therapist."""
        seen = self.view(name, key)
        return seen is not None and seen.as_role == THERAPIST

    # --- shares -------------------------------------------------------------------------------

    def shares_listed(self, name: str) -> set[str]:
        """A therapist sees the shares she made (any state); a client their active shares."""
        person = self.people[name]
        return {key for key, share in self.shares.items() if self._lists_share(person, name, share)}

    def _lists_share(self, person: Person, name: str, share: ShareModel) -> bool:
        if share.practice != person.practice or self.recordings[share.recording].deleted:
            return False
        if person.role == THERAPIST:
            return share.created_by == name
        return person.role == CLIENT and share.client == name and self.share_active(share)

    def reviews(self, name: str, key: str) -> bool:
        """The client's side of a share (review, progress, bookmarks, ratings)."""
        person, share = self.people[name], self.shares[key]
        return (
            person.role == CLIENT
            and key in self.shares_listed(name)
            and share.client == name
            and person.active
        )

    def revokes(self, name: str, key: str) -> bool:
        return key in self.shares_listed(name) and self.shares[key].created_by == name

    def share_outcome(self, name: str, key: str, client: str, hours: float | None) -> int:
        """POST /api/v1/shares: 201, 404 (cannot see it, or not its client) or 409 (refused)."""
        refused = self.refusal(name)
        if refused:
            return refused
        rec = self.recordings[key]
        if not self.listed(name, key) or client != rec.client:
            return 404
        if self.people[name].role != THERAPIST or rec.therapist != name:
            return 409
        if not self.consented(rec.client, "client_review"):
            return 409
        if hours is not None and not 0 < hours <= SHARE_MAX_HOURS:
            return 409
        return 201

    # --- changes ------------------------------------------------------------------------------

    def add_share(
        self, key: str, rec_key: str, by: str, hours: float | None, options: tuple[bool, ...]
    ) -> None:
        rec = self.recordings[rec_key]
        self.serial += 1
        video, transcript, download = options
        self.shares[key] = ShareModel(
            recording=rec_key,
            client=rec.client,
            created_by=by,
            practice=rec.practice,
            serial=self.serial,
            expires_at=self.now + (SHARE_DEFAULT_HOURS if hours is None else hours),
            video=video,
            transcript=transcript,
            download=download,
        )

    def consent_outcome(self, client: str, actor: str, *, giving: bool) -> bool:
        """Whether `actor` may record (or withdraw) `client`'s consent."""
        if giving and self.people[client].role != CLIENT:
            return False
        if actor == client:
            return True
        return self.people[actor].role == THERAPIST and (actor, client) in self.caseload

    def withdraw(self, client: str, scope: str) -> None:
        """A current consent ends, with what that means (nothing if there was none)."""
        current = self.consents.setdefault(client, set())
        if scope not in current:
            return
        current.discard(scope)
        if scope == "client_review":
            for share in self.shares.values():
                if share.client == client and self.share_active(share):
                    share.revoked = True
        if scope == "transcription":
            for rec in self.recordings.values():
                if rec.client == client and not rec.deleted:
                    rec.transcripts = False
                    rec.client_text = False

    def hold_back(self, key: str, change: int) -> None:
        rec = self.recordings[key]
        rec.holdbacks += change
        rec.client_version = False
        rec.client_text = False

    def grant_outcome(self, admin: str, client: str) -> bool:
        person, target = self.people[admin], self.people[client]
        if person.role != ADMIN or not person.active:
            return False
        if target.practice != person.practice or target.role != CLIENT:
            return False
        return not any(
            g.admin == admin and g.client == client and self.grant_active(g)
            for g in self.grants.values()
        )
