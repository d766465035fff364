"""HTTP sessions for Microsoft endpoints: public CAs plus ENTRA_CA_BUNDLE, timeouts, and a user agent."""
import contextvars
import functools
import hashlib
import ssl
import tempfile
import time
from pathlib import Path

import certifi
import requests

TIMEOUT = (5, 30)  # connect, read
USER_AGENT = "Frontdesk/0.1 (+directory-sync)"
# Seconds this request (or job) has waited on Microsoft so far: the web layer reports it as Server-Timing, so the
# portal's own share of a sign-in can be told from Microsoft's.
microsoft_wait: contextvars.ContextVar[float] = contextvars.ContextVar("microsoft_wait", default=0.0)


@functools.cache
def trust_bundle(extra_ca: str | None) -> str:
    """A CA file with the public roots plus the extra CA, written once per extra CA file content."""
    if not extra_ca:
        return certifi.where()
    extra = Path(extra_ca).read_bytes()
    digest = hashlib.sha256(extra).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"frontdesk-ca-{digest}.pem"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + extra)
        tmp.replace(path)
    return str(path)


@functools.cache
def _context(bundle: str) -> ssl.SSLContext:
    """One verifying TLS context per bundle, built once (loading a CA file costs milliseconds per connection)."""
    return ssl.create_default_context(cafile=bundle)


class _TrustAdapter(requests.adapters.HTTPAdapter):
    """Pools whose TLS context already trusts our bundle, so requests' per-connection CA loading is skipped."""

    def __init__(self, context: ssl.SSLContext, **kwargs):
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self._context
        return super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, verify, cert)
        conn.ca_certs = conn.ca_cert_dir = None  # the context verifies (CERT_REQUIRED, hostname checked)


class MicrosoftSession(requests.Session):
    """Always verifies with our bundle (requests lets REQUESTS_CA_BUNDLE override a session's verify)."""

    def __init__(self, ca_bundle: str | None = None):
        super().__init__()
        self.trust = trust_bundle(ca_bundle)
        self.headers["User-Agent"] = USER_AGENT
        self.mount("https://", _TrustAdapter(_context(self.trust), pool_connections=4, pool_maxsize=8))

    def request(self, method, url, **kwargs):
        kwargs["verify"] = True  # never False: the adapter's context does the verifying
        kwargs.setdefault("timeout", TIMEOUT)
        began = time.perf_counter()
        try:
            return super().request(method, url, **kwargs)
        finally:
            microsoft_wait.set(microsoft_wait.get() + time.perf_counter() - began)
