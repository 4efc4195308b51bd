"""Production settings (security.md 17, 22): `check --deploy` is clean, cookies are Secure
and HttpOnly, HTTPS is forced with HSTS, the CSP is sent, and a short audit retention stops
the server. The production settings are loaded in a subprocess with a production-like
environment, as a real installation would load them."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from kaohe.audit.checks import check_audit_retention
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
KAOHE = ROOT / ".venv" / "bin" / "kaohe"


def _production_env(tmp_path, **extra) -> dict:
    # Nothing of the test process's own set-up leaks in (the browser tests, run earlier in
    # the same process, set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright).
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("KAOHE_", "SECURE_", "DATABASE_URL", "SECRET_KEY",
                                  "ALLOWED_HOSTS", "AUDIT_", "SESSION_", "CSRF_",
                                  "DJANGO_ALLOW_ASYNC_UNSAFE"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "kaohe.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_KEY": secrets.token_urlsafe(48),
        "KAOHE_DEBUG": "false",
        "ALLOWED_HOSTS": "kaohe.example.cn",
        "KAOHE_DATA_DIR": str(tmp_path / "data"),
    })
    env.update(extra)
    return env


def _run(args, env):
    return subprocess.run(  # noqa: S603 - our own programs, arguments from this file
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _check_deploy(tmp_path, **extra):
    return _run([str(KAOHE), "check", "--deploy", "--fail-level", "WARNING"],
                _production_env(tmp_path, **extra))


def test_check_deploy_is_clean_for_the_production_settings(tmp_path):
    result = _check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    # Nothing but the information naming the documents' faces (kaohe.documents.I001).
    assert "WARNINGS:" not in output and "ERRORS:" not in output
    assert "kaohe.documents.I001" in output and "identified 1 issue" in output
    # Only the HSTS preload warning is silenced, and settings.py says why.
    assert "(1 silenced)" in output


def test_choosing_hsts_preload_leaves_nothing_silenced(tmp_path):
    result = _check_deploy(tmp_path, SECURE_HSTS_PRELOAD="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(0 silenced)" in result.stdout + result.stderr


@pytest.mark.parametrize(("extra", "check_id"), [
    ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
    ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
    ({"SECURE_COOKIES": "false"}, "security.W012"),
    ({"SECRET_KEY": "short"}, "security.W009"),
])
def test_check_deploy_fails_on_a_weakened_setting(tmp_path, extra, check_id):
    result = _check_deploy(tmp_path, **extra)
    assert result.returncode != 0
    assert check_id in result.stdout + result.stderr


_PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k) for k in ["
    "'DEBUG', 'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', "
    "'CSRF_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
    "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', 'X_FRAME_OPTIONS', "
    "'SECURE_CONTENT_TYPE_NOSNIFF', 'AUDIT_RETENTION_DAYS', 'MIDDLEWARE']}))"
)


def _effective(tmp_path, **extra) -> dict:
    result = _run([sys.executable, "-c", _PRINT], _production_env(tmp_path, **extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_cookies_are_secure_and_httponly_and_https_is_forced(tmp_path):
    values = _effective(tmp_path)
    assert values["DEBUG"] is False
    for name in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
                 "CSRF_COOKIE_HTTPONLY", "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF",
                 "SECURE_HSTS_INCLUDE_SUBDOMAINS"):
        assert values[name] is True, name
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["AUDIT_RETENTION_DAYS"] == 180
    assert "csp.middleware.CSPMiddleware" in values["MIDDLEWARE"]


def test_https_settings_come_from_the_environment(tmp_path):
    values = _effective(tmp_path, SECURE_HSTS_SECONDS="600", SECURE_SSL_REDIRECT="false",
                        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
                        AUDIT_RETENTION_DAYS="365")
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["AUDIT_RETENTION_DAYS"] == 365


@pytest.mark.parametrize(("extra", "message"), [
    ({"AUDIT_RETENTION_DAYS": "179"}, "AUDIT_RETENTION_DAYS must be at least 180"),
    ({"AUDIT_RETENTION_DAYS": "0"}, "AUDIT_RETENTION_DAYS must be at least 180"),
    ({"AUDIT_RETENTION_DAYS": "-1"}, "AUDIT_RETENTION_DAYS must be at least 180"),
    ({"AUDIT_RETENTION_DAYS": "half a year"}, "AUDIT_RETENTION_DAYS must be an integer"),
    ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, "SECURE_PROXY_SSL_HEADER must be"),
    ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS must be an integer"),
    ({"AUDIT_KEY": ""}, "AUDIT_KEY (or AUDIT_KEY_FILE) must be set"),
    ({"AUDIT_KEY": "short-audit-key"}, "AUDIT_KEY must be at least 32 characters"),
    ({"AUDIT_KEY_FILE": "/nonexistent/audit.key"}, "AUDIT_KEY_FILE='/nonexistent/audit.key'"),
])
def test_a_bad_setting_stops_the_server(tmp_path, extra, message):
    result = _run([sys.executable, "-c", _PRINT], _production_env(tmp_path, **extra))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_the_audit_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "audit.key"
    key_file.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
    script = ("import django; django.setup(); from django.conf import settings as s; "
              "print(s.AUDIT_KEY, s.AUDIT_KEY_IS_DEMO)")
    result = _run([sys.executable, "-c", script],
                  _production_env(tmp_path, AUDIT_KEY="", AUDIT_KEY_FILE=str(key_file)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [key_file.read_text(encoding="utf-8").strip(), "False"]


def test_the_demo_uses_a_fixed_audit_key_and_says_so(tmp_path):
    env = _production_env(tmp_path, KAOHE_DEBUG="true", AUDIT_KEY="")
    result = _run([str(KAOHE), "check"], env)
    assert result.returncode == 0, result.stderr
    assert "audit.W002" in result.stdout + result.stderr


@pytest.mark.parametrize(("days", "errors"), [(180, 0), (3650, 0), (179, 1), (30, 1),
                                              (None, 1), ("180", 1)])
def test_the_retention_check_refuses_less_than_180_days(settings, days, errors):
    settings.AUDIT_RETENTION_DAYS = days
    found = check_audit_retention()
    assert len(found) == errors
    assert all(error.id == "audit.E001" for error in found)


# -- The headers a page carries -------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


def _directives(header: str) -> dict:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_page_carries_the_content_security_policy(client, personas):
    client.force_login(personas["office"])
    for url in (reverse("home"), reverse("login"), reverse("rounds:list")):
        response = client.get(url, follow=True)
        assert _directives(response["Content-Security-Policy"]) == _directives(CSP), url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_a_nonce_is_added_when_a_page_uses_one(rf):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    request = rf.get("/")
    middleware = CSPMiddleware(lambda request: HttpResponse(f"nonce={request.csp_nonce}"))
    response = middleware(request)
    nonce = response.content.decode().removeprefix("nonce=")
    assert f"'nonce-{nonce}'" in _directives(response["Content-Security-Policy"])["script-src"]


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
                   SECURE_SSL_REDIRECT=True, SESSION_COOKIE_SECURE=True,
                   CSRF_COOKIE_SECURE=True)
def test_https_responses_carry_hsts_and_secure_httponly_cookies(client, personas):
    assert client.get(reverse("login")).status_code == 301  # plain HTTP goes to HTTPS
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]
    signed_in = client.post(reverse("login"), {"username": "unit_a", "password": PASSWORD},
                            secure=True)
    assert signed_in.status_code == 302
    session = signed_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"]


def test_the_wsgi_application_loads_its_views_then_freezes_what_it_holds(tmp_path):
    """kaohe.wsgi, as gunicorn loads it: the views are imported before the first request
    and the objects of the loaded program are frozen, so that the garbage collector's full
    collections walk only what requests make (their pauses were most of its time)."""
    script = ("import gc, sys; import kaohe.wsgi; "
              "print(gc.get_freeze_count() > 50000, 'kaohe.reviews.views.oversight' in sys.modules,"
              " callable(kaohe.wsgi.application))")
    result = _run([sys.executable, "-c", script], _production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]
