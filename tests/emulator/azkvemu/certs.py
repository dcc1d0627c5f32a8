"""Test CA and TLS server certificate for the emulator.

Clients talk to the emulator with the real Azure host names (curl --connect-to,
CURLOPT_CONNECT_TO, a custom agent in Node), so the server certificate carries
those names; clients trust DIR/ca.pem and keep certificate verification on.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .util import atomic_write

# Every DNS name a client may put in SNI/Host when talking to the emulator.
SERVER_DNS_NAMES = [
    "localhost",
    "*.vault.azure.net",
    "*.managedhsm.azure.net",
    "*.vault.azure.cn",
    "*.vault.usgovcloudapi.net",
    "login.microsoftonline.com",
    "management.azure.com",
    "*.cognitiveservices.azure.com",
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


def _make_server_cert(ca_key, ca_cert):
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in SERVER_DNS_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
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
