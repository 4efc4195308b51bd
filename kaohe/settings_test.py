"""Settings for the test suite: the real settings with test-only defaults."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-installation")
os.environ.setdefault("KAOHE_DATA_DIR", tempfile.mkdtemp(prefix="kaohe-test-"))

from kaohe.settings import *  # noqa: F403

# Argon2 is deliberately slow; the tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# WhiteNoise expects STATIC_ROOT to exist; tests serve assets through the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
