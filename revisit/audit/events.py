"""Audit event types: an IntEnum with reserved ranges, so numbers never change meaning.

1xx accounts and sign-in, 2xx consent and recordings, 3xx sharing, 4xx playback and PHI access,
5xx keys, storage and administration, 6xx retention and deletion.
"""

from __future__ import annotations

from enum import IntEnum


class Event(IntEnum):
    # 1xx accounts
    SIGN_IN = 101
    SIGN_OUT = 102
    SIGN_IN_FAILED = 103
    MFA_ADDED = 104
    MFA_REMOVED = 105
    INVITATION_SENT = 106
    INVITATION_ACCEPTED = 107
    INVITATION_WITHDRAWN = 108
    PASSWORD_CHANGED = 109
    TOKEN_CREATED = 110
    TOKEN_REVOKED = 111
    USER_DEACTIVATED = 112
    SESSIONS_ENDED = 113
    CASELOAD_ADDED = 114
    PRACTICE_CREATED = 115
    # 2xx consent and recordings
    CONSENT_GIVEN = 201
    CONSENT_REVOKED = 202
    UPLOAD_STARTED = 210
    UPLOAD_COMPLETED = 211
    UPLOAD_REJECTED = 212
    UPLOAD_TERMINATED = 213
    RECORDING_CREATED = 220
    PROCESSING_FINISHED = 221
    PROCESSING_FAILED = 222
    RECORDING_DELETED = 223
    TRANSCRIPT_CORRECTED = 224
    # 3xx sharing
    SHARE_CREATED = 301
    SHARE_REVOKED = 302
    SHARE_EXPIRED = 303
    HOLDBACK_CHANGED = 304
    # 4xx playback and access to session content
    PLAYBACK_STARTED = 401
    TRANSCRIPT_VIEWED = 402
    DOWNLOAD = 403
    MEDIA_TAMPERED = 404
    REVIEW_RATED = 405
    SEARCHED = 406
    # 5xx keys, storage, administration
    KEY_ROTATED = 501
    BREAK_GLASS = 502
    EXPORT = 503
    VAULT_VERIFIED = 504
    OBJECT_SHREDDED = 505
    # 6xx retention
    RETENTION_RUN = 601
    LEGAL_HOLD_PLACED = 602
    LEGAL_HOLD_RELEASED = 603
    RETENTION_POLICY_CHANGED = 604

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").lower()
