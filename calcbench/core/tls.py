"""Throwaway TLS material: one CA per run, the certificates it signs, and the SSL contexts.

A mesh gives every workload an identity signed by its own CA and puts TLS on every hop; a run
does the same with a CA made for it and thrown away with it. `make_pki(directory, hosts)`
writes into `directory` (created 0700)::

    ca.pem                      the CA certificate: peers verify against it
    server.pem, server-key.pem  the services' certificate (serverAuth + clientAuth: percentage
                                presents it to its downstreams under mTLS)
    client.pem, client-key.pem  the load generator's and health checks' client certificate

Keys are ECDSA P-256 (as Linkerd's proxies use), each written 0600 and never read by anything
but an SSL context; the CA's own key is not written at all. Only paths travel in settings, the
endpoints file and run.json.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT: Final = "ca.pem"
SERVER_CERT: Final = "server.pem"
SERVER_KEY: Final = "server-key.pem"
CLIENT_CERT: Final = "client.pem"
CLIENT_KEY: Final = "client-key.pem"
#: A run's certificates outlive any run; the CA's key is gone, so nothing is ever re-signed.
VALID_FOR: Final = datetime.timedelta(days=2)
DIR_MODE: Final = 0o700
KEY_MODE: Final = 0o600


@dataclass(frozen=True)
class TlsFiles:
    """What one TLS endpoint uses: the CA that verifies its peers and its own certificate.

    `mtls`: a server requires and verifies its clients' certificates; a client presents its own.
    Without `mtls` a client sends no certificate (its `cert`/`key` are then unused).
    """

    ca: Path
    cert: Path
    key: Path
    mtls: bool = False


@dataclass(frozen=True)
class Pki:
    """A directory made by `make_pki`: the paths of its files, for either side."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / CA_CERT

    def server(self, mtls: bool) -> TlsFiles:
        return TlsFiles(self.ca, self.directory / SERVER_CERT, self.directory / SERVER_KEY, mtls)

    def client(self, mtls: bool) -> TlsFiles:
        return TlsFiles(self.ca, self.directory / CLIENT_CERT, self.directory / CLIENT_KEY, mtls)


def make_pki(directory: Path, hosts: Iterable[str] = ("127.0.0.1",)) -> Pki:
    """A fresh CA and the two certificates it signs, valid for `hosts` and `localhost`."""
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    directory.chmod(DIR_MODE)  # mkdir's mode is masked by the umask, and skipped if it existed
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key)
    _write(directory / CA_CERT, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    names = _subject_names(hosts)
    for cert_name, key_name, common_name in (
        (SERVER_CERT, SERVER_KEY, "calcbench service"),
        (CLIENT_CERT, CLIENT_KEY, "calcbench client"),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _leaf_certificate(common_name, key, names, ca_key, ca_cert)
        _write(directory / key_name, _key_pem(key), KEY_MODE)
        _write(directory / cert_name, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return Pki(directory)


@contextmanager
def throwaway_pki(hosts: Iterable[str] = ("127.0.0.1",)) -> Iterator[Pki]:
    """`make_pki` in a fresh private temporary directory, removed (keys and all) on exit."""
    directory = Path(tempfile.mkdtemp(prefix="calcbench-tls-"))
    try:
        yield make_pki(directory, hosts)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `mode` from the start: a key is never readable by others, even briefly."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _subject_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for host in {*hosts, "127.0.0.1"}:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _builder(
    subject: str, issuer: str, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
    )


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = "calcbench throwaway CA"
    builder = _builder(name, name, key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    builder = builder.add_extension(_usage(ca=True), critical=True)
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    return builder.sign(key, hashes.SHA256())


def _leaf_certificate(
    common_name: str,
    key: ec.EllipticCurvePrivateKey,
    names: list[x509.GeneralName],
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
) -> x509.Certificate:
    builder = _builder(common_name, "calcbench throwaway CA", key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    builder = builder.add_extension(_usage(ca=False), critical=True)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
    )
    return builder.sign(ca_key, hashes.SHA256())


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server's context: its certificate; with `mtls`, clients must present one the CA signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    if files.mtls:
        context.load_verify_locations(files.ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(files: TlsFiles) -> ssl.SSLContext:
    """A client's context: verifies the server (certificate and name) against the CA only; with
    `mtls`, presents its own certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=files.ca)
    if files.mtls:
        context.load_cert_chain(files.cert, files.key)
    return context


def read_pem(files: TlsFiles) -> tuple[bytes, bytes, bytes]:
    """(CA, certificate, key) bytes, for gRPC credentials; hold them no longer than needed."""
    return files.ca.read_bytes(), files.cert.read_bytes(), files.key.read_bytes()
