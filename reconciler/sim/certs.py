"""A throwaway CA and a serving certificate for 127.0.0.1.

Made with the ``cryptography`` package when it is installed (it is not a declared dependency), else
with the ``openssl`` command line.
"""

from __future__ import annotations

import datetime
import importlib.util
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class ServingPair:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def generate(host: str = "127.0.0.1") -> ServingPair:
    """A new CA and a certificate for ``host`` (and ``localhost``) signed by it."""
    if importlib.util.find_spec("cryptography") is None:
        return with_openssl(host)
    return with_cryptography(host)


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: str, key: Any) -> Any:
    from cryptography import x509

    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY).not_valid_after(now + 30 * _DAY))


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    pem: bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return pem


def with_cryptography(host: str = "127.0.0.1") -> ServingPair:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (_builder("stackfleet-sim-ca", "stackfleet-sim-ca", ca_key)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    names = [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
    cert = (_builder("stackfleet-sim", "stackfleet-sim-ca", key)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return ServingPair(ca.public_bytes(pem), cert.public_bytes(pem), _pem_key(key))


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def with_openssl(host: str = "127.0.0.1") -> ServingPair:
    """The same pair made by the ``openssl`` command (EC P-256 keys, 30 days)."""
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    with tempfile.TemporaryDirectory(prefix="sim-certs-") as scratch:
        where = Path(scratch)
        (where / "ext.cnf").write_text(f"subjectAltName=IP:{host},DNS:localhost\n"
                                       "basicConstraints=critical,CA:FALSE\n")
        _openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
                 "-subj", "/CN=stackfleet-sim-ca", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", cwd=where)
        _openssl("req", *curve, "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=stackfleet-sim", cwd=where)
        _openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "tls.crt", "-days", "30", "-extfile", "ext.cnf", cwd=where)
        return ServingPair(*((where / name).read_bytes() for name in ("ca.crt", "tls.crt", "tls.key")))
