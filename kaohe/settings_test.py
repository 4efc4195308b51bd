"""Settings for the test suite: the real settings with test-only defaults."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-installation")
# In the environment, so that the production settings loaded by subprocesses find it too.
os.environ.setdefault("AUDIT_KEY", "test-only-audit-key-not-for-any-installation")
# A pytest-xdist worker inherits the environment of the process that started it, and with it
# that process's directory: each worker makes its own, or the workers' files would mix.
# Processes a test starts inherit their worker's name and so share its directory.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
if ("KAOHE_DATA_DIR" not in os.environ
        or os.environ.get("KAOHE_TEST_DATA_DIR_WORKER", _worker) != _worker):
    _data_dir = tempfile.mkdtemp(prefix=f"kaohe-test-{_worker}-")
    os.environ["KAOHE_DATA_DIR"] = _data_dir
    os.environ["KAOHE_TEST_DATA_DIR_WORKER"] = _worker
    # Evidence files and uploads of a test run go away with it.
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)

from kaohe.settings import *  # noqa: E402, F403

# Argon2 is deliberately slow; the tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The test client and the live server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# WhiteNoise expects STATIC_ROOT to exist; tests serve assets through the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# Background tasks run at once, in the request that queues them (after its commit).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Bulk exports render in the test process.
EXPORT_PROCESSES = 1
