"""Certificates made at test time with `cryptography`: a CA and the servers it signs."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Issued:
    """A certificate and its private key, both PEM."""

    certificate: bytes
    key: bytes
    _cert: x509.Certificate
    _key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        """Key and certificate together, as `PrivateCertificate.loadPEM` takes them."""
        return self.key + self.certificate


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(
    subject: str,
    issuer: Issued | None,
    *,
    ca: bool,
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer._cert.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(names), critical=False
        )
    signer = issuer._key if issuer else key
    cert = builder.sign(signer, hashes.SHA256())
    return Issued(
        certificate=cert.public_bytes(serialization.Encoding.PEM),
        key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        _cert=cert,
        _key=key,
    )


def make_ca(name: str = "Test CA") -> Issued:
    """A self-signed certificate authority."""
    return _issue(name, None, ca=True)


def make_server(ca: Issued, *dns: str, ips: tuple[str, ...] = ()) -> Issued:
    """A certificate for the names ``dns`` and addresses ``ips``, signed by ``ca``."""
    return _issue(dns[0] if dns else "server", ca, ca=False, dns=dns, ips=ips)
