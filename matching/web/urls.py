"""URLs of the review app (filled in by the views as they land)."""

from __future__ import annotations

app_name = "web"
urlpatterns: list = []
