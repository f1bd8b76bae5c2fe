"""Sign in, sign out and change password: Django's own views with GOV.UK templates."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from matching.web.forms import SignInForm


class SignIn(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOut(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET)."""


class ChangePassword(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:queue")

    def form_valid(self, form: Any) -> Any:
        messages.success(self.request, "Your password has been changed")
        return super().form_valid(form)
