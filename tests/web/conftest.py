"""Web tests: a fast password hasher (the fixture creates nine users) and signed-in clients."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def as_user(casework: Any):
    """``as_user("k_inv")`` → a Client signed in as that user."""

    def make(username: str) -> Client:
        return casework.login(Client(), username)

    return make
