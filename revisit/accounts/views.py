"""Pages for people and practices. Each view parses input and calls one service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login, password_validation
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from revisit.accounts import selectors, services
from revisit.accounts.models import Role, User
from revisit.review.selectors import shares_visible_to

INVITE_SESSION_KEY = "revisit_invitation_key"


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has run; this keeps the type checker honest
        raise Http404
    return user


def _require_role(request: HttpRequest, *roles: Role) -> User:
    user = _user(request)
    if user.role not in roles:
        raise Http404  # a page for another role does not exist for this person
    return user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role == Role.THERAPIST:
        return redirect("caseload")
    if user.role == Role.ADMIN:
        return redirect("practice_people")
    if user.role == Role.CLIENT:
        shares = shares_visible_to(user).select_related("progress")
        return render(request, "accounts/client_home.html", {"person": user, "shares": shares})
    return render(request, "accounts/home.html", {"person": user})


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    display_name = forms.CharField(label="Name to show (optional)", max_length=150, required=False)


class StaffInviteForm(InviteForm):
    role = forms.ChoiceField(
        choices=[
            (Role.THERAPIST.value, "Therapist"),
            (Role.SUPERVISOR.value, "Supervisor"),
            (Role.ADMIN.value, "Practice admin"),
            (Role.CLIENT.value, "Client"),
        ]
    )


@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    therapist = _require_role(request, Role.THERAPIST)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                inviter=therapist,
                email=form.cleaned_data["email"],
                role=Role.CLIENT,
                display_name=form.cleaned_data["display_name"],
            )
        except services.AccountsError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, "Invitation sent. The link works once and expires.")
            return redirect("caseload")
    clients = selectors.caseload_clients(therapist=therapist)
    return render(request, "accounts/caseload.html", {"clients": clients, "form": form})


@login_required
def practice_people(request: HttpRequest) -> HttpResponse:
    admin = _require_role(request, Role.ADMIN)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                inviter=admin,
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
                display_name=form.cleaned_data["display_name"],
            )
        except services.AccountsError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, "Invitation sent.")
            return redirect("practice_people")
    members = selectors.practice_members(admin=admin)
    return render(request, "accounts/people.html", {"members": members, "form": form})


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, initial="API token")
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, initial=90)


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        issued = services.token_create(
            user=user,
            name=form.cleaned_data["name"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
        new_token = issued.plaintext
        form = TokenForm()
    return render(
        request,
        "accounts/security.html",
        {
            "tokens": selectors.tokens_for(user=user),
            "form": form,
            "new_token": new_token,
            "has_mfa": selectors.has_mfa(user),
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    user = _user(request)
    token = selectors.token_of(user=user, token_id=token_id)
    if token is None:
        raise Http404
    services.token_revoke(token=token, actor=user)
    messages.success(request, "Token revoked. It stops working at once.")
    return redirect("security")


def invitation_open(request: HttpRequest, key: str) -> HttpResponse:
    """Move the key out of the URL at once, so it is not left in history or Referer headers."""
    request.session[INVITE_SESSION_KEY] = key
    return redirect("invitation_accept")


class AcceptForm(forms.Form):
    # strip=False: a password is used exactly as typed, spaces at either end included (V6.2.8).
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Type it again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.user = user

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError("The two passwords are not the same.")
        if isinstance(p1, str):
            password_validation.validate_password(p1, self.user)
        return cleaned


def invitation_accept(request: HttpRequest) -> HttpResponse:
    key = request.session.get(INVITE_SESSION_KEY, "")
    invitation = services.invitation_find(key=key) if isinstance(key, str) else None
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = AcceptForm(request.POST or None, user=invitation.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(key=key, password=form.cleaned_data["password1"])
        except services.AccountsError:
            return render(request, "accounts/invitation_invalid.html", status=404)
        request.session.pop(INVITE_SESSION_KEY, None)
        login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
        messages.success(request, "Welcome. Your account is ready.")
        return redirect("home")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "email": invitation.user.email}
    )


def quick_exit(request: HttpRequest) -> HttpResponse:
    """Leave at once: end the session and show a neutral page with nothing to go back to."""
    from django.contrib.auth import logout

    logout(request)
    response = render(request, "quick_exit.html")
    response["Clear-Site-Data"] = '"cache", "storage"'
    response["Cache-Control"] = "no-store"
    return response
