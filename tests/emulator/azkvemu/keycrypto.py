"""Real cryptography behind the emulated keys (RSA, EC and Managed HSM's AES
keys, via python3-cryptography).

The emulator must be cryptographically faithful: data wrapped by the module
locally with a key's public JWK must unwrap in the emulator and vice versa, so
nothing here is simulated.
"""

import os
import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from .util import b64url, b64url_decode, b64url_to_int, int_to_b64url

RSA_SIZES = (2048, 3072, 4096)

CURVES = {
    "P-256": (ec.SECP256R1, 32),
    "P-384": (ec.SECP384R1, 48),
    "P-521": (ec.SECP521R1, 66),
    "P-256K": (ec.SECP256K1, 32),
}
_CURVE_BY_OPENSSL_NAME = {cls.name: crv for crv, (cls, _) in CURVES.items()}

RSA_KTYS = ("RSA", "RSA-HSM")
EC_KTYS = ("EC", "EC-HSM")
# Symmetric keys: Managed HSM only, always HSM-protected ("oct" is accepted
# on the way in and stored as "oct-HSM", as the service answers an import of
# {"kty":"oct"} with "oct-HSM" -- JS SDK recording aesCrypto-256, 2021).
OCT_KTYS = ("oct", "oct-HSM")
AES_SIZES = (128, 192, 256)
# key_size when a create request gives none: the emulator's choice (the
# service's default is not documented; a create without one succeeds).
AES_DEFAULT_SIZE = 256

# Default key_ops when the caller gives none, as the service answers (oct:
# the order of a recorded Managed HSM create without key_ops).
DEFAULT_OPS = {
    "RSA": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
    "EC": ["sign", "verify"],
    "oct": ["wrapKey", "unwrapKey", "decrypt", "encrypt"],
}
KNOWN_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"]

ENCRYPTION_ALGS = {
    # alg: padding factory
    "RSA-OAEP": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
    "RSA-OAEP-256": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    "RSA1_5": padding.PKCS1v15,
}

# AES key wrap in Managed HSM (wrapkey/unwrapkey with oct-HSM keys): alg ->
# (key size it needs or None for any, padded). A128KW/A192KW/A256KW are
# RFC 3394 with a key of that size (JWA, RFC 7518 4.4); CKM_AES_KEY_WRAP is
# the same construction named after the PKCS#11 mechanism, for any AES key
# size; CKM_AES_KEY_WRAP_PAD is RFC 5649 (AES key wrap with padding, what
# the CKM_RSA_AES_KEY_WRAP import format of Key Vault's BYOK specification
# and Microsoft's CCF implement under that name). Data-plane spec 7.6
# (JsonWebKeyEncryptionAlgorithm); the SDKs offer them for wrap/unwrap only
# (KeyWrapAlgorithm), not for encrypt/decrypt (EncryptionAlgorithm).
AES_WRAP_ALGS = {
    "A128KW": (128, False),
    "A192KW": (192, False),
    "A256KW": (256, False),
    "CKM_AES_KEY_WRAP": (None, False),
    "CKM_AES_KEY_WRAP_PAD": (None, True),
}

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
# Signature alg -> (family, hash class, required curve for EC)
SIGNATURE_ALGS = {
    "RS256": ("RS", hashes.SHA256, None), "RS384": ("RS", hashes.SHA384, None),
    "RS512": ("RS", hashes.SHA512, None),
    "PS256": ("PS", hashes.SHA256, None), "PS384": ("PS", hashes.SHA384, None),
    "PS512": ("PS", hashes.SHA512, None),
    "ES256": ("ES", hashes.SHA256, "P-256"), "ES384": ("ES", hashes.SHA384, "P-384"),
    "ES512": ("ES", hashes.SHA512, "P-521"), "ES256K": ("ES", hashes.SHA256, "P-256K"),
}


class CryptoError(Exception):
    """The request was well-formed JSON but cannot be honoured (service: 400 BadParameter)."""


def family(kty: str) -> str:
    if kty in OCT_KTYS:
        return "oct"
    return "RSA" if kty in RSA_KTYS else "EC"


class AesKey:
    """A Managed HSM symmetric key: its bytes (kept in the state, never answered)."""

    def __init__(self, k: bytes):
        if len(k) * 8 not in AES_SIZES:
            raise CryptoError(f"An AES key is 128, 192 or 256 bits, not {len(k) * 8}.")
        self.k = bytes(k)

    @property
    def key_size(self) -> int:
        return len(self.k) * 8


# ---- key material --------------------------------------------------------------

def generate(kty: str, key_size=None, crv=None, public_exponent=None):
    """A fresh private key for a create/rotate request (validated by the caller)."""
    if kty in OCT_KTYS:
        return AesKey(os.urandom((key_size or AES_DEFAULT_SIZE) // 8))
    if kty in RSA_KTYS:
        return rsa.generate_private_key(public_exponent=public_exponent or 65537,
                                        key_size=key_size or 2048)
    return ec.generate_private_key(CURVES[crv or "P-256"][0]())


def material(key) -> dict:
    """How a key version stores its key: {"pem": ...} or, for AES, {"k": base64url}."""
    if isinstance(key, AesKey):
        return {"pem": None, "k": b64url(key.k)}
    return {"pem": to_pem(key)}


def load_key(record: dict):
    """The key of a stored version (see material)."""
    if record.get("k"):
        return AesKey(b64url_decode(record["k"]))
    return load_pem(record["pem"])


def to_pem(private_key) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


_cache = {}
_cache_lock = threading.Lock()


def load_pem(pem: str):
    """Parse a stored private key; cached because RSA parsing costs milliseconds per call."""
    with _cache_lock:
        key = _cache.get(pem)
    if key is None:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        with _cache_lock:
            if len(_cache) > 1000:
                _cache.clear()
            _cache[pem] = key
    return key


def load_import_pem(data: bytes):
    """A private key a test wants to import (PEM, PKCS#1/PKCS#8/SEC1, unencrypted)."""
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CryptoError("only RSA and EC private keys can be imported")
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in _CURVE_BY_OPENSSL_NAME:
        raise CryptoError(f"unsupported curve {key.curve.name}")
    return key


def key_size_of(private_key) -> int:
    return private_key.key_size


def curve_of(private_key) -> str:
    return _CURVE_BY_OPENSSL_NAME[private_key.curve.name]


def public_jwk_fields(private_key) -> dict:
    """The public JWK members, in the order the service writes them. A
    symmetric key has none: Managed HSM answers only kid, kty and key_ops."""
    if isinstance(private_key, AesKey):
        return {}
    if isinstance(private_key, rsa.RSAPrivateKey):
        pub = private_key.public_key().public_numbers()
        return {"n": int_to_b64url(pub.n), "e": int_to_b64url(pub.e)}
    crv = curve_of(private_key)
    size = CURVES[crv][1]
    pub = private_key.public_key().public_numbers()
    return {"crv": crv, "x": int_to_b64url(pub.x, size), "y": int_to_b64url(pub.y, size)}


def public_pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def from_private_jwk(jwk: dict):
    """Build a private key from an import request's JWK (RSA: n e d p q dp dq qi; EC: crv x y d;
    oct: k)."""
    try:
        kty = jwk.get("kty")
        if kty in OCT_KTYS:
            return AesKey(b64url_decode(jwk["k"]))
        if kty in RSA_KTYS:
            n, e = b64url_to_int(jwk["n"]), b64url_to_int(jwk["e"])
            d = b64url_to_int(jwk["d"])
            if all(k in jwk for k in ("p", "q")):
                p, q = b64url_to_int(jwk["p"]), b64url_to_int(jwk["q"])
            else:
                p, q = rsa.rsa_recover_prime_factors(n, e, d)
            dmp1 = b64url_to_int(jwk["dp"]) if "dp" in jwk else rsa.rsa_crt_dmp1(d, p)
            dmq1 = b64url_to_int(jwk["dq"]) if "dq" in jwk else rsa.rsa_crt_dmq1(d, q)
            iqmp = b64url_to_int(jwk["qi"]) if "qi" in jwk else rsa.rsa_crt_iqmp(p, q)
            numbers = rsa.RSAPrivateNumbers(p, q, d, dmp1, dmq1, iqmp, rsa.RSAPublicNumbers(e, n))
            return numbers.private_key()
        if kty in EC_KTYS:
            crv = jwk.get("crv")
            if crv not in CURVES:
                raise CryptoError(f"The curve '{crv}' is not supported.")
            pub = ec.EllipticCurvePublicNumbers(b64url_to_int(jwk["x"]), b64url_to_int(jwk["y"]), CURVES[crv][0]())
            return ec.EllipticCurvePrivateNumbers(b64url_to_int(jwk["d"]), pub).private_key()
    except CryptoError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        raise CryptoError(f"The key material is invalid: {exc}") from exc
    raise CryptoError(f"Unsupported key type '{kty}' for import.")


# ---- operations ------------------------------------------------------------------

def encrypt(private_key, alg: str, plaintext: bytes) -> bytes:
    """wrapKey / encrypt with RSA (done with the public half, as the HSM would)."""
    if not isinstance(private_key, rsa.RSAPrivateKey) or alg not in ENCRYPTION_ALGS:
        raise CryptoError(f"Algorithm '{alg}' is not supported by this key.")
    try:
        return private_key.public_key().encrypt(plaintext, ENCRYPTION_ALGS[alg]())
    except ValueError as exc:
        raise CryptoError("The length of the plaintext is too long for the key and algorithm.") from exc


def decrypt(private_key, alg: str, ciphertext: bytes) -> bytes:
    if not isinstance(private_key, rsa.RSAPrivateKey) or alg not in ENCRYPTION_ALGS:
        raise CryptoError(f"Algorithm '{alg}' is not supported by this key.")
    try:
        return private_key.decrypt(ciphertext, ENCRYPTION_ALGS[alg]())
    except ValueError as exc:
        # Wording seen from the real service for a failed OAEP unwrap.
        kind = "PKCS1" if alg == "RSA1_5" else "OAEP"
        raise CryptoError(f"Error occurred while decoding {kind} padding.") from exc


def _aes_wrap_alg(key, alg: str):
    if not isinstance(key, AesKey) or alg not in AES_WRAP_ALGS:
        raise CryptoError(f"Algorithm '{alg}' is not supported by this key.")
    bits, padded = AES_WRAP_ALGS[alg]
    if bits is not None and bits != key.key_size:
        # Wording is the emulator's own (not seen in recordings).
        raise CryptoError(f"Algorithm {alg} needs a {bits}-bit key; this key has {key.key_size} bits.")
    return padded


def aes_wrap(key, alg: str, plaintext: bytes) -> bytes:
    """wrapKey with an oct-HSM key (RFC 3394 or RFC 5649, see AES_WRAP_ALGS)."""
    if _aes_wrap_alg(key, alg):
        return keywrap.aes_key_wrap_with_padding(key.k, plaintext)
    if len(plaintext) < 16 or len(plaintext) % 8:
        raise CryptoError(f"{alg} wraps a multiple of 8 bytes, at least 16; not {len(plaintext)} bytes.")
    return keywrap.aes_key_wrap(key.k, plaintext)


def aes_unwrap(key, alg: str, wrapped: bytes) -> bytes:
    padded = _aes_wrap_alg(key, alg)
    if len(wrapped) % 8 or len(wrapped) < (16 if padded else 24):
        raise CryptoError(f"{len(wrapped)} bytes is not the length of a key wrapped with {alg}.")
    try:
        if padded:
            return keywrap.aes_key_unwrap_with_padding(key.k, wrapped)
        return keywrap.aes_key_unwrap(key.k, wrapped)
    except keywrap.InvalidUnwrap:
        raise CryptoError(f"Unwrap with {alg} failed: the wrapped key is corrupt or was not "
                          "wrapped with this key.") from None


def _check_sign_alg(private_key, alg: str, digest: bytes):
    if alg not in SIGNATURE_ALGS:
        raise CryptoError(f"Algorithm '{alg}' is not supported by this key.")
    fam, hash_cls, crv = SIGNATURE_ALGS[alg]
    if fam == "ES":
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise CryptoError(f"Algorithm '{alg}' is not supported by this key.")
        if curve_of(private_key) != crv:
            raise CryptoError(f"Algorithm '{alg}' is not valid for curve {curve_of(private_key)}.")
    elif not isinstance(private_key, rsa.RSAPrivateKey):
        raise CryptoError(f"Algorithm '{alg}' is not supported by this key.")
    if len(digest) != hash_cls.digest_size:
        raise CryptoError(f"The digest length {len(digest)} is invalid for algorithm '{alg}'.")
    return fam, hash_cls


def _rsa_padding(fam, hash_cls):
    if fam == "PS":
        # Key Vault's PSS uses a salt as long as the digest.
        return padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size)
    return padding.PKCS1v15()


def sign(private_key, alg: str, digest: bytes) -> bytes:
    """Sign a precomputed digest. ECDSA signatures are JWS style: r || s, fixed width."""
    fam, hash_cls = _check_sign_alg(private_key, alg, digest)
    prehashed = utils.Prehashed(hash_cls())
    if fam == "ES":
        der = private_key.sign(digest, ec.ECDSA(prehashed))
        r, s = utils.decode_dss_signature(der)
        size = CURVES[curve_of(private_key)][1]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return private_key.sign(digest, _rsa_padding(fam, hash_cls), prehashed)


def verify(private_key, alg: str, digest: bytes, signature: bytes) -> bool:
    fam, hash_cls = _check_sign_alg(private_key, alg, digest)
    prehashed = utils.Prehashed(hash_cls())
    public = private_key.public_key()
    try:
        if fam == "ES":
            size = CURVES[curve_of(private_key)][1]
            if len(signature) != 2 * size:
                return False
            der = utils.encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                             int.from_bytes(signature[size:], "big"))
            public.verify(der, digest, ec.ECDSA(prehashed))
        else:
            public.verify(signature, digest, _rsa_padding(fam, hash_cls), prehashed)
        return True
    except InvalidSignature:
        return False
