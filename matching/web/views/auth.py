"""Sign in, sign out and change password: Django's own views with GOV.UK templates."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from matching.casework.models import PasswordChangeRequired
from matching.casework.people import record_password_set
from matching.web.forms import SignInForm
from matching.web.middleware import PASSWORD_OK


class SignIn(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _address_failures(request) >= settings.ADDRESS_FAILURE_LIMIT:
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        return super().post(request, *args, **kwargs)

    def get_success_url(self) -> str:
        url = super().get_success_url()
        # ?next=/sign-in/ for a signed-in user would redirect to itself for ever (a 500).
        return str(resolve_url(settings.LOGIN_REDIRECT_URL)) if url == self.request.path else url


def _address_failures(request: HttpRequest) -> int:
    """Failed sign-ins from the request's address, for any username, within the cool-off time."""
    from axes.helpers import get_client_ip_address
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(ip_address=get_client_ip_address(request), attempt_time__gte=since)
    return int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)


class SignOut(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET)."""


class NewPasswordForm(PasswordChangeForm):
    """Django's form, and the new password must differ from the current one: otherwise a
    password somebody else chose would stay in use after its forced change."""

    def clean_new_password1(self) -> str:
        new = str(self.cleaned_data.get("new_password1") or "")
        if new and self.user.check_password(new):
            raise forms.ValidationError("Choose a password different from your current one", code="password_unchanged")
        return new

    def clean(self) -> dict[str, Any]:
        """Django checks the rules against the confirmation; what is wrong is the new password,
        so its errors are shown (and announced) there. Only a mismatch is the confirmation's."""
        self.validate_passwords("new_password1", "new_password2")
        if "new_password1" not in self.errors:
            self.validate_password_for_user(self.user, "new_password1")
        return dict(forms.Form.clean(self) or {})


class ChangePassword(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:queue")
    form_class = NewPasswordForm

    def form_invalid(self, form: Any) -> Any:
        """A wrong current password counts as a failed sign-in for the account: without this,
        anyone at a signed-in desk left unattended could guess it without limit and keep a
        password that outlives the session. At the sign-in's limit the session ends and the
        account is locked for the sign-in's cool-off time."""
        if "old_password" in form.errors:
            from axes.handlers.proxy import AxesProxyHandler

            credentials = {"username": self.request.user.get_username()}
            user_login_failed.send(sender=__name__, credentials=credentials, request=self.request)
            if AxesProxyHandler.is_locked(self.request, credentials):
                logout(self.request)
                return render(self.request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> Any:
        with transaction.atomic():  # the password and its audit event together, as the CLI's
            response = super().form_valid(form)
            PasswordChangeRequired.objects.filter(user=self.request.user).delete()
            record_password_set(self.request.user, self.request.user, must_change=False)
        self.request.session[PASSWORD_OK] = True
        messages.success(self.request, "Your password has been changed")
        return response


@login_required
@require_POST
def keep_alive(request: HttpRequest) -> HttpResponse:
    """"Stay signed in", before the idle limit: the request itself renews the session
    (``SessionTimeoutMiddleware``); the script asks for no content, a form goes back where it was."""
    request.session["last_seen"] = int(time.time())
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(target if safe and target else "web:queue")
