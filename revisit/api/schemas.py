"""Typed request and response bodies shared by the routers."""

from __future__ import annotations

from ninja import Schema


class PracticeOut(Schema):
    id: str
    name: str


class MeOut(Schema):
    id: str
    email: str
    display_name: str
    role: str
    is_trainee: bool
    mfa_enabled: bool
    practice: PracticeOut
