"""Who may see which recording, and which version of it. Decided from the database every time.

- its therapist: everything, the full version;
- a supervisor of that therapist, while the client's supervision consent stands: the full version;
- its client, while an active share (not expired, not revoked) exists: the client's version (with
  held-back ranges removed, once the therapist has held anything back), within the share's options;
- a practice admin of its practice, while they hold an active emergency-access grant for its client
  (not ended, not expired; `revisit.breakglass`): the full version, read-only, never as a download;
  whatever they open is audited with the grant's id (`Access.audit_detail`);
- anyone else: nothing, and no hint that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.utils import timezone

from revisit.accounts.models import Role, Supervision, User
from revisit.breakglass.selectors import active_grant
from revisit.ids import parse_id
from revisit.recordings.models import ConsentScope, Recording, Rendition, RenditionKind
from revisit.review.models import Share

FULL = "full"
CLIENT = "client"
TRANSCRIPT_KINDS = frozenset(
    {RenditionKind.TRANSCRIPT, RenditionKind.CAPTIONS, RenditionKind.CHAPTERS, RenditionKind.SEARCH}
)


@dataclass(frozen=True)
class Access:
    recording: Recording
    as_role: str
    variant: str
    share: Share | None = None
    allow_video: bool = True
    allow_transcript: bool = True
    allow_download: bool = True
    break_glass: str | None = None  # the emergency-access grant this access rests on

    @property
    def is_client(self) -> bool:
        return self.as_role == Role.CLIENT

    @property
    def audit_detail(self) -> dict[str, str]:
        """What every audit entry of an access made under this decision must also carry."""
        return {"break_glass": self.break_glass} if self.break_glass else {}

    def allows(self, kind: str) -> bool:
        return kind_allowed(kind, video=self.allow_video, transcript=self.allow_transcript)


def kind_allowed(kind: str, *, video: bool, transcript: bool) -> bool:
    """Whether options allowing video and/or transcripts let one fetch a rendition of ``kind``."""
    if kind == RenditionKind.VIDEO or kind == RenditionKind.POSTER:
        return video
    if kind in TRANSCRIPT_KINDS:
        return transcript
    return True


def active_share(*, client: User, recording_id: UUID) -> Share | None:
    return (
        Share.objects.filter(
            client=client,
            recording_id=recording_id,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def client_variant(recording: Recording) -> str:
    return CLIENT if recording.holdbacks.exists() else FULL


def access_for(user: User, recording: Recording) -> Access | None:
    if not user.is_active or recording.practice_id != user.practice_id:
        return None
    if user.role == Role.THERAPIST and recording.therapist_id == user.pk:
        return Access(recording, Role.THERAPIST, FULL)
    if user.role == Role.SUPERVISOR:
        from revisit.recordings.consent import consent_current

        supervises = Supervision.objects.filter(
            supervisor=user, therapist_id=recording.therapist_id
        ).exists()
        if supervises and consent_current(client=recording.client, scope=ConsentScope.SUPERVISION):
            return Access(recording, Role.SUPERVISOR, FULL, allow_download=False)
        return None
    if user.role == Role.CLIENT and recording.client_id == user.pk:
        share = active_share(client=user, recording_id=recording.pk)
        if share is None:
            return None
        return Access(
            recording,
            Role.CLIENT,
            client_variant(recording),
            share=share,
            allow_video=share.allow_video,
            allow_transcript=share.allow_transcript,
            allow_download=share.allow_download,
        )
    if user.role == Role.ADMIN:
        grant = active_grant(admin=user, client_id=recording.client_id)
        if grant is None:
            return None
        return Access(recording, Role.ADMIN, FULL, allow_download=False, break_glass=str(grant.pk))
    return None


def recording_access(*, user: User, recording_id: object) -> Access | None:
    pk = parse_id(recording_id)
    if pk is None:
        return None
    recording = (
        Recording.objects.select_related("client")
        .filter(pk=pk, practice_id=user.practice_id)
        .first()
    )
    return None if recording is None else access_for(user, recording)


def rendition_for(access: Access, kind: RenditionKind) -> Rendition | None:
    """The rendition of this kind the caller may fetch, or None."""
    if not access.allows(kind):
        return None
    return (
        Rendition.objects.filter(recording=access.recording, kind=kind, variant=access.variant)
        .select_related("sealed")
        .first()
    )


def rendition_access(*, user: User, rendition_id: object) -> tuple[Rendition, Access] | None:
    pk = parse_id(rendition_id)
    if pk is None:
        return None
    rendition = (
        Rendition.objects.select_related("recording", "recording__client", "sealed")
        .filter(pk=pk, recording__practice_id=user.practice_id)
        .first()
    )
    if rendition is None:
        return None
    access = access_for(user, rendition.recording)
    if access is None or not access.allows(rendition.kind):
        return None
    if access.is_client and rendition.variant != access.variant:
        return None  # a client only ever gets their own version
    return rendition, access
