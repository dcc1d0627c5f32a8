"""Test CA and TLS server certificate for the emulator; client certificates for Entra's
certificate credentials.

Clients talk to the emulator with the real Azure host names (curl --connect-to,
CURLOPT_CONNECT_TO, a custom agent in Node), so the server certificate carries
those names; clients trust DIR/ca.pem and keep certificate verification on.
"""

import base64
import datetime
import hashlib
import ipaddress
import os
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import clouds
from .util import atomic_write, b64url

# Every DNS name a client may put in SNI/Host when talking to the emulator.
SERVER_DNS_NAMES = ["localhost"] + clouds.DNS_NAMES + [
    "*.cognitiveservices.azure.com",
    "oidc.azkv-emulator.test",          # the built-in OIDC issuer of federated tokens (oidc.py)
]
SERVER_IPS = ["127.0.0.1", "::1"]

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _validity():
    # Back-date a little so clocks that differ slightly do not reject the cert.
    start = datetime.datetime.utcnow() - datetime.timedelta(days=1)
    return start, start + datetime.timedelta(days=3650)


def _make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azkv-pkcs11 emulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, "azkv-emulator test CA"),
    ])
    start, end = _validity()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_server_cert(ca_key, ca_cert, dns_names=None, ips=None):
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in (SERVER_DNS_NAMES if dns_names is None else dns_names)]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in (SERVER_IPS if ips is None else ips)]
    start, end = _validity()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azkv-emulator")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        # Some TLS stacks refuse server certificates valid for more than ~2 years.
        .not_valid_after(start + datetime.timedelta(days=397))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def ensure_certificates(state_dir: str) -> dict:
    """Create the CA and server certificate once; reuse them on later starts.

    Reuse matters: tests and users may have pointed clients at DIR/ca.pem already.
    Returns the paths of the files the TLS server and the clients need.
    """
    paths = {
        "ca_file": os.path.join(state_dir, CA_FILE),
        "ca_key_file": os.path.join(state_dir, CA_KEY_FILE),
        "cert_file": os.path.join(state_dir, SERVER_CERT_FILE),
        "key_file": os.path.join(state_dir, SERVER_KEY_FILE),
    }
    if all(os.path.exists(p) for p in paths.values()) and _server_cert_current(paths["cert_file"]):
        return paths

    if os.path.exists(paths["ca_file"]) and os.path.exists(paths["ca_key_file"]):
        with open(paths["ca_key_file"], "rb") as fh:
            ca_key = serialization.load_pem_private_key(fh.read(), password=None)
        with open(paths["ca_file"], "rb") as fh:
            ca_cert = x509.load_pem_x509_certificate(fh.read())
    else:
        ca_key, ca_cert = _make_ca()
        atomic_write(paths["ca_key_file"], _key_pem(ca_key))
        atomic_write(paths["ca_file"], ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)

    key, cert = _make_server_cert(ca_key, ca_cert)
    atomic_write(paths["key_file"], _key_pem(key))
    atomic_write(paths["cert_file"], cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return paths


def issue_server_cert(state_dir: str, paths: dict, dns_name: str):
    """Test-only (hostile.py): a server certificate of the test CA for dns_name alone, so that
    a client that checks host names refuses it. Returns (cert_file, key_file)."""
    with open(paths["ca_key_file"], "rb") as fh:
        ca_key = serialization.load_pem_private_key(fh.read(), password=None)
    with open(paths["ca_file"], "rb") as fh:
        ca_cert = x509.load_pem_x509_certificate(fh.read())
    key, cert = _make_server_cert(ca_key, ca_cert, [dns_name], [])
    cert_file = os.path.join(state_dir, "hostile-server.pem")
    key_file = os.path.join(state_dir, "hostile-server-key.pem")
    atomic_write(key_file, _key_pem(key))
    atomic_write(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_file, key_file


def _server_cert_current(cert_file: str) -> bool:
    """True while the server certificate is valid for at least another week and
    carries every name we serve (the list may grow between emulator versions)."""
    with open(cert_file, "rb") as fh:
        cert = x509.load_pem_x509_certificate(fh.read())
    if cert.not_valid_after - datetime.timedelta(days=7) < datetime.datetime.utcnow():
        return False
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(SERVER_DNS_NAMES) <= set(names.get_values_for_type(x509.DNSName))


# ---- client certificates (Entra certificate credentials, assertions.py) -------------------

def thumbprints(der: bytes) -> dict:
    """The ways Entra and the SDKs name a certificate: SHA-1 and SHA-256 of the DER, as the
    upper-case hex the portal shows and as the base64url the JOSE header carries (x5t, x5t#S256:
    RFC 7515 4.1.7/4.1.8; learn.microsoft.com/entra/identity-platform/certificate-credentials)."""
    sha1 = hashlib.sha1(der).digest()  # noqa: S324 -- a thumbprint, not a security hash
    sha256 = hashlib.sha256(der).digest()
    return {"thumbprint": sha1.hex().upper(), "thumbprint_sha256": sha256.hex().upper(),
            "x5t": b64url(sha1), "x5t#S256": b64url(sha256)}


def certificate_record(cert) -> dict:
    """What the state keeps of a certificate registered on an app (keyCredentials)."""
    der = cert.public_bytes(serialization.Encoding.DER)
    rec = {"der": base64.b64encode(der).decode("ascii"), "subject": cert.subject.rfc4514_string(),
           "not_before": int(cert.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp()),
           "not_after": int(cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp())}
    rec.update(thumbprints(der))
    return rec


def load_pem_certificates(pem: bytes) -> list:
    """Every certificate in a PEM bundle, in order (a key in the same file is ignored)."""
    out = []
    for block in re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S):
        out.append(x509.load_pem_x509_certificate(block))
    return out


def load_ca(state_dir: str):
    """The emulator's test CA: (key, certificate)."""
    with open(os.path.join(state_dir, CA_KEY_FILE), "rb") as fh:
        key = serialization.load_pem_private_key(fh.read(), password=None)
    with open(os.path.join(state_dir, CA_FILE), "rb") as fh:
        cert = x509.load_pem_x509_certificate(fh.read())
    return key, cert


def make_client_certificate(subject: str, ca=None, days: int = 365):
    """An RSA-2048 client certificate (Entra certificate credentials are RSA) for `subject`
    ("CN=..." or an RFC 4514 name), self-signed or issued by `ca` = (key, cert).
    Returns (private key, certificate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = parse_name(subject)
    issuer_key, issuer_name = (ca[0], ca[1].subject) if ca else (key, name)
    start = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca[0].public_key()), critical=False)
    return key, builder.sign(issuer_key, hashes.SHA256())


def parse_name(text: str) -> x509.Name:
    """'CN=app.contoso.com, O=Contoso' (RFC 4514, either separator) -> x509.Name; a bare
    string is a CN."""
    oids = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "C": NameOID.COUNTRY_NAME, "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME}
    text = (text or "").strip()
    if not text:
        raise ValueError("empty subject name")
    if "=" not in text:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])
    attrs = []
    for part in re.split(r"\s*[,;]\s*", text):
        label, sep, value = part.partition("=")
        oid = oids.get(label.strip().upper())
        if not sep or oid is None or not value.strip():
            raise ValueError(f"cannot read subject name '{text}' (use e.g. CN=app.contoso.com, O=Contoso)")
        attrs.append(x509.NameAttribute(oid, value.strip()))
    # RFC 4514 strings list the most specific attribute first; x509 names are built root first.
    return x509.Name(list(reversed(attrs)))


def pem_of(obj) -> str:
    """PEM text of a certificate or (unencrypted PKCS#8) private key."""
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return _key_pem(obj).decode("ascii")
