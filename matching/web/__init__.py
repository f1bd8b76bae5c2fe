"""The review web app: a Django project (settings, URLs, views, templates) over the case store."""
