"""`matching serve`: the review app under waitress, on loopback unless HTTPS is promised."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_answers_http_on_a_free_port(workspace):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MATCHING_WORKSPACE")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "matching", "--workspace", str(workspace), "serve", "--port", str(port), "--threads", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once migrations are done, just before listening
        assert f"Serving the review app at http://127.0.0.1:{port}/ — Ctrl-C to stop" in line, line
        deadline = time.monotonic() + 30
        while True:
            try:
                code = status_of(f"http://127.0.0.1:{port}/sign-in/")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert 200 <= code < 500  # the sign-in page, or a redirect/404 while the app is young
        assert (workspace / "casework.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "review.example.org"])
def test_serve_refuses_the_network_without_https(run_cli, monkeypatch, host):
    monkeypatch.delenv("MATCHING_HTTPS", raising=False)
    r = run_cli("serve", "--host", host)
    assert r.exit_code == 2 and f"Refusing to listen on {host} over plain HTTP" in r.stderr
    assert "MATCHING_HTTPS=1" in r.stderr and "--insecure-http" in r.stderr


@pytest.mark.django_db
def test_serve_listens_on_the_network_when_told(run_cli, monkeypatch):
    import waitress

    calls = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: calls.append(kw))
    assert run_cli("serve", "--host", "0.0.0.0", "--insecure-http", "--port", "9001").exit_code == 0
    monkeypatch.setenv("MATCHING_HTTPS", "1")
    r = run_cli("serve", "--host", "::", "--threads", "4")
    assert r.exit_code == 0 and "http://[::]:8000/" in r.stdout
    proxy = {"trusted_proxy": "127.0.0.1", "trusted_proxy_count": 1, "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"},
             "clear_untrusted_proxy_headers": True}
    assert calls == [{"host": "0.0.0.0", "port": 9001, "threads": 8}, {"host": "::", "port": 8000, "threads": 4, **proxy}]
    assert run_cli("serve", "--trusted-proxy", "10.0.0.5").exit_code == 0
    assert calls[-1]["trusted_proxy"] == "10.0.0.5"


def test_serve_behind_a_tls_proxy_believes_only_the_proxys_scheme(workspace):
    """Under MATCHING_HTTPS=1 a request the proxy marks as HTTPS is served; one without the mark
    is redirected to HTTPS (waitress stripped the header, and every request looped, before)."""
    import urllib.request

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MATCHING_WORKSPACE")} | {"MATCHING_HTTPS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "matching", "--workspace", str(workspace), "serve", "--port", str(port), "--threads", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None and "Serving the review app" in proc.stdout.readline()

        def status(headers: dict[str, str]) -> int:
            class NoRedirect(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                    return None

            request = urllib.request.Request(f"http://127.0.0.1:{port}/sign-in/", headers=headers)
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.build_opener(NoRedirect).open(request, timeout=5) as response:
                        return int(response.status)
                except urllib.error.HTTPError as exc:
                    return exc.code
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.2)

        assert status({"X-Forwarded-Proto": "https"}) == 200
        assert status({}) == 301
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_casework_commands_start_django_themselves(workspace):
    """In a fresh process (not under pytest-django) each command sets Django up before using a model."""
    from tests.casework.fixtures import inconsistency, make_bundle

    make_bundle(workspace, [inconsistency(1)])
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MATCHING_WORKSPACE", "DJANGO_SETTINGS_MODULE")}

    def matching(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "matching", "--workspace", str(workspace), *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    published = matching("publish", "--all", "--json")
    assert published.returncode == 0, published.stderr
    assert '"new": 1' in published.stdout
    listed = matching("queue", "list", "--as", "nobody")
    assert listed.returncode == 2 and "No active user 'nobody'" in listed.stderr and "Traceback" not in listed.stderr
