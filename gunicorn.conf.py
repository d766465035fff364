"""gunicorn's production settings: `gunicorn -c gunicorn.conf.py wsgi:app` (each can be set from the environment)."""
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads keep a slow Graph call or database wait from blocking a whole worker, and serve keep-alive connections.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
timeout = 60
graceful_timeout = 30
max_requests = 5000  # recycle workers now and then so a slow leak can never grow without bound
max_requests_jitter = 500
accesslog = os.environ.get("ACCESS_LOG")  # unset: no access log (the portal logs what matters, with request ids)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
certfile = os.environ.get("TLS_CERT_FILE")  # TLS in gunicorn itself when no proxy terminates it
keyfile = os.environ.get("TLS_KEY_FILE")
