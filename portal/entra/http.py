"""HTTP sessions for Microsoft endpoints: public CAs plus ENTRA_CA_BUNDLE, timeouts, and a user agent."""
import functools
import hashlib
import tempfile
from pathlib import Path

import certifi
import requests

TIMEOUT = (5, 30)  # connect, read
USER_AGENT = "Frontdesk/0.1 (+directory-sync)"


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


class MicrosoftSession(requests.Session):
    """Always verifies with our bundle (requests lets REQUESTS_CA_BUNDLE override a session's verify)."""

    def __init__(self, ca_bundle: str | None = None):
        super().__init__()
        self.trust = trust_bundle(ca_bundle)
        self.headers["User-Agent"] = USER_AGENT
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8)
        self.mount("https://", adapter)

    def request(self, method, url, **kwargs):
        kwargs["verify"] = self.trust
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, url, **kwargs)
