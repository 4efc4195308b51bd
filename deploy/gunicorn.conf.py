"""gunicorn settings of a Kaohe app server: `gunicorn --config deploy/gunicorn.conf.py`.

Read by deploy/systemd/kaohe-web.service and by the reliability tests, which run two of
these behind deploy/nginx/kaohe.conf. The environment file (deploy/kaohe.env.example)
sets what differs between hosts:

    KAOHE_BIND            address:port nginx reaches (127.0.0.1:8000 on one host,
                          the host's private address:8000 behind a separate nginx)
    KAOHE_WEB_WORKERS     processes (default: 2 per core)
    KAOHE_WEB_THREADS     threads per process (default 4; 1 means sync workers)
    KAOHE_TRUSTED_PROXIES the proxies whose X-Forwarded-Proto gunicorn believes, as Kaohe does

The worker class and counts were chosen by measurement (deploy/README.md, "Workers"):
behind nginx's request buffering a tus PATCH holds a worker only while nginx hands it the
body, and threads keep pages answering while other requests wait on the database, on the
disk (fsync of a finished upload) or on object storage.
"""

import os
from pathlib import Path

wsgi_app = "kaohe.wsgi:application"
# The checkout (this file is deploy/gunicorn.conf.py in it), whatever the working directory.
chdir = str(Path(__file__).resolve().parent.parent)

bind = [address.strip() for address in os.environ.get("KAOHE_BIND", "127.0.0.1:8000").split(",")
        if address.strip()]
workers = int(os.environ.get("KAOHE_WEB_WORKERS", "") or 2 * (os.cpu_count() or 1))
threads = int(os.environ.get("KAOHE_WEB_THREADS", "") or 4)
# threads > 1 makes gunicorn use the gthread worker; state it for the reader.
worker_class = "gthread" if threads > 1 else "sync"

# sync: the longest request may run this long before its worker is killed; gthread: how
# long a worker may be unresponsive. Finishing a 4 GiB upload hashes and stores it.
timeout = 120
graceful_timeout = 30
# nginx opens one connection per request (no upstream keepalive: a connection gunicorn
# closes while nginx reuses it would fail a PATCH).
keepalive = 2
# A worker is replaced after this many requests (jitter: not all at once), so that memory
# a large page or export took is given back.
max_requests = 2000
max_requests_jitter = 200
# X-Forwarded-Proto only from the proxies Kaohe trusts (the default is the loopback).
forwarded_allow_ips = os.environ.get("KAOHE_TRUSTED_PROXIES", "") or "127.0.0.1,::1"

# nginx logs every request (with the app server that answered); gunicorn logs errors to
# stderr, which systemd's journal keeps.
accesslog = None
errorlog = "-"
loglevel = "warning"
# No control socket: it would be shared by every gunicorn of the same user.
control_socket_disable = True
proc_name = "kaohe-web"
