"""The example's accounts: sign in, sign up, sign out, and the Loops demos "Forgot password"
and "Sign in with a link", plus a dev outbox of emails.

Signing in with a password, signing up and signing out are Django's own views and forms
(``LoginView``, ``UserCreationForm``, ``LogoutView``, which signs out on ``POST`` only), with
the example's templates: the admin's login only lets staff in.

The password reset is Django's own flow (its views, ``default_token_generator``
and ``PasswordResetForm``) with one change: the form emails the link through
Loops with ``send_password_reset_email`` instead of ``EMAIL_BACKEND``. Both
forms answer the same whether or not an account uses the address, so they do
not reveal which addresses have accounts. Offline (simulation on) nothing is
sent: the emails are listed on the dev outbox page, which exists only with
``DEBUG`` on (it shows sign-in links to anyone).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from example.dev import dev_outboxes_shown
from patchbay.core.simulation import outbox
from patchbay.loops.shortcuts import send_login_link_to_address, send_password_reset_email

OUTBOX_SIZE = 20


class LoopsPasswordResetForm(PasswordResetForm):
    """Django's reset form, emailing the reset link through Loops.

    ``save()`` still finds the users (active, with a usable password, whose
    email matches in any case) and makes the token; only the sending changes.
    """

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        path = reverse(
            "accounts:password-reset-confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        reset_url = f"{context['protocol']}://{context['domain']}{path}"
        send_password_reset_email(context["user"], reset_url)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # After logout() so that the message goes in the new, anonymous session.
        messages.info(request, "You are signed out.")
        return response


class SignUpForm(UserCreationForm):
    """Django's form, with the address the reset and sign-in links are emailed to."""

    email = forms.EmailField(label="Email address", max_length=254)

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


def sign_up(request: HttpRequest) -> HttpResponse:
    """Make an account (not staff) and sign it in; the password validators apply."""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.get_username()}: your account is ready.")
        return redirect(_safe_next(request) or "home")
    return render(request, "accounts/sign_up.html", {"form": form, "next_url": _safe_next(request)})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LoopsPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password-reset-sent")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "dev_outbox": dev_outboxes_shown()}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "dev_outbox": dev_outboxes_shown()}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_done.html"


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


def sign_in_with_link(request: HttpRequest) -> HttpResponse:
    """Email a one-time sign-in link to the account using the address, if any.

    ``send_login_link_to_address`` does the same work for every address while the
    request is handled, and looks the account up and emails it after the response:
    neither the answer nor its timing tells whether an account uses the address.
    """
    next_url = _safe_next(request) or reverse("accounts:sign-in-link")
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        send_login_link_to_address(form.cleaned_data["email"], next_url=next_url, request=request)
        # The same answer whether an account was found or not (a refusal, such as a
        # send limit, is the same for every address too).
        return redirect(reverse("accounts:sign-in-link") + "?sent=1")
    context = {
        "form": form,
        "sent": request.GET.get("sent") == "1",
        "next_url": next_url,
        "dev_outbox": dev_outboxes_shown(),
    }
    return render(request, "accounts/sign_in_link.html", context)


@require_GET
def outbox_page(request: HttpRequest) -> HttpResponse:
    """The emails Loops would have been asked to send, newest first; ``DEBUG`` on only."""
    if not dev_outboxes_shown():
        raise Http404("The outbox only exists while simulating with DEBUG on.")
    calls = outbox.filter(provider="loops", operation="transactional_email")[-OUTBOX_SIZE:]
    emails = [
        {
            "at": call.created_at,
            "template_id": call.data["payload"].get("transactionalId", ""),
            "to": call.data["payload"].get("email", ""),
            "variables": [
                (name, str(value), _is_link(value))
                for name, value in sorted(call.data["payload"].get("dataVariables", {}).items())
            ],
        }
        for call in reversed(calls)
    ]
    return render(request, "accounts/outbox.html", {"emails": emails})


def _safe_next(request: HttpRequest) -> str:
    """``?next=`` (or the form's ``next``) if it is a printable URL of this site, else ""."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.isprintable() and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _is_link(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://", "/"))
