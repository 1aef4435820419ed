"""gunicorn's settings for `make serve`, read from the environment (docs/deploy.md).

The app processes keep nothing of their own between requests (sessions and the ledger
live in the database, uploads under TAIZHANG_MEDIA_DIR), so more of them, on this host
or others, is how Taizhang grows.
"""

import os

wsgi_app = "taizhang.wsgi:application"
# One address or several, comma-separated: 127.0.0.1:8000, 0.0.0.0:8000, unix:/run/taizhang.sock.
bind = [address.strip() for address in os.environ.get("TAIZHANG_BIND", "127.0.0.1:8000").split(",")]
workers = int(os.environ.get("TAIZHANG_WORKERS", 2 * (os.cpu_count() or 1) + 1))
# More than one thread makes gunicorn use its threaded worker; one keeps the plain sync worker.
threads = int(os.environ.get("TAIZHANG_THREADS", "1"))
# An import of a large sheet runs inside its request: give it time before the worker is killed.
timeout = int(os.environ.get("TAIZHANG_TIMEOUT", "120"))
graceful_timeout = 30
# Load the app once, before forking: a configuration error (no secret key) stops the
# server at once with its message instead of every worker failing to boot in turn.
preload_app = True
accesslog = "-"
# gunicorn's control socket (one fixed path per user) is not used; two servers would share it.
control_socket_disable = True
