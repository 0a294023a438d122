"""A throw-away certificate authority for the Salesforce emulator.

simple-salesforce always speaks https, so the emulator serves
TLS with a certificate from a test CA made by trustme. Clients trust it through
`requests.Session(verify=<ca.pem>)` with `trust_env=False`, because
REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would otherwise override `verify`.
"""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

HOSTNAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class LoopbackCA:
    ca_path: Path  # PEM of the CA, for the client's `verify`
    server_context: ssl.SSLContext


def make_test_ca(directory: str | Path | None = None) -> LoopbackCA:
    """Create a CA and a server certificate for loopback; write the CA PEM to `directory`."""
    folder = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="emulator-ca-"))
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="Expansion signals emulator CA")
    leaf = ca.issue_cert(*HOSTNAMES)
    ca_path = folder / "emulator-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return LoopbackCA(ca_path, context)
