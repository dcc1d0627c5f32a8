"""POST /keys/{name}[/{version}]/{wrapkey|unwrapkey|encrypt|decrypt|sign|verify}.

Checks run in the service's order once the caller is authorised: key exists,
key enabled and within its validity window, operation listed in key_ops, then
the request body (alg, value) and the cryptography itself.
"""

from . import keycrypto, keystore
from .bundles import key_id
from .httpmsg import ServiceError
from .util import b64url, b64url_decode, now

# URL operation (lower case) -> (access-policy permission == JWK key_op name, family of algs)
OPERATIONS = {
    "wrapkey": "wrapKey",
    "unwrapkey": "unwrapKey",
    "encrypt": "encrypt",
    "decrypt": "decrypt",
    "sign": "sign",
    "verify": "verify",
}
# Operations that create new protected data; the others keep working on
# expired keys so that old data can still be read.
_PRODUCING = {"wrapKey", "encrypt", "sign"}


def _bad(message: str) -> ServiceError:
    return ServiceError(400, "BadParameter", message)


def _b64_field(body: dict, name: str) -> bytes:
    value = body.get(name)
    if value is None or value == "":
        raise _bad(f"Property '{name}' is required.")
    try:
        return b64url_decode(value)
    except ValueError:
        raise _bad(f"Content of '{name}' is not base64url.") from None


def _check_usable(record: dict, op: str) -> None:
    if not record["enabled"]:
        raise ServiceError(403, "Forbidden", f"Operation {op} is not allowed on a disabled key.",
                           "KeyDisabled")
    current = now()
    # Validity messages are the emulator's own wording (not seen in recordings).
    if record.get("nbf") is not None and current < record["nbf"]:
        raise ServiceError(403, "Forbidden", f"Operation {op} is not allowed on a key that is not yet valid.",
                           "KeyNotYetValid")
    if op in _PRODUCING and record.get("exp") is not None and current >= record["exp"]:
        raise ServiceError(403, "Forbidden", f"Operation {op} is not allowed on an expired key.",
                           "KeyExpired")
    if op not in record["key_ops"]:
        # Real service: 403 Forbidden / KeyOperationForbidden (not 400).
        raise ServiceError(403, "Forbidden", f"Operation {op} is not permitted on this key.",
                           "KeyOperationForbidden")


def _symmetric(key, kid: str, op: str, alg: str, body: dict) -> dict:
    """An oct-HSM key: AES key wrap (wrapKey/unwrapKey). The answer names the
    alg, as Managed HSM's answers to symmetric operations do (recorded
    decrypt with A256CBCPAD: {"alg","kid","value"}). AES-GCM/CBC encrypt and
    HMAC sign are not emulated."""
    if op not in ("wrapKey", "unwrapKey") or alg not in keycrypto.AES_WRAP_ALGS:
        if alg in keycrypto.AES_WRAP_ALGS:
            raise _bad(f"Algorithm '{alg}' is for wrapKey and unwrapKey, not {op}.")
        raise _bad(f"Invalid algorithm '{alg}' for {op} with an oct-HSM key.")
    value = _b64_field(body, "value")
    if op == "wrapKey":
        out = keycrypto.aes_wrap(key, alg, value)
    else:
        out = keycrypto.aes_unwrap(key, alg, value)
    return {"alg": alg, "kid": kid, "value": b64url(out)}


def run(lock, vault: dict, base: str, name: str, version: str, op: str, body: dict) -> dict:
    """Execute one operation; returns the response JSON object. The key is looked up
    under `lock`; the (slow) RSA work runs outside it."""
    with lock:
        entry, record = keystore.get_record(vault, name, version)
        record = dict(record)
        kid = key_id(base, entry, record)
    _check_usable(record, op)
    alg = body.get("alg")
    if not isinstance(alg, str) or not alg:
        raise _bad("Property 'alg' is required.")
    key = keycrypto.load_key(record)
    try:
        if isinstance(key, keycrypto.AesKey):
            return _symmetric(key, kid, op, alg, body)
        if op in ("wrapKey", "encrypt"):
            if alg not in keycrypto.ENCRYPTION_ALGS:
                raise _bad(f"Invalid algorithm '{alg}' for {op}.")
            return {"kid": kid, "value": b64url(keycrypto.encrypt(key, alg, _b64_field(body, "value")))}
        if op in ("unwrapKey", "decrypt"):
            if alg not in keycrypto.ENCRYPTION_ALGS:
                raise _bad(f"Invalid algorithm '{alg}' for {op}.")
            return {"kid": kid, "value": b64url(keycrypto.decrypt(key, alg, _b64_field(body, "value")))}
        if alg not in keycrypto.SIGNATURE_ALGS:
            raise _bad(f"Invalid algorithm '{alg}' for {op}.")
        if op == "sign":
            return {"kid": kid, "value": b64url(keycrypto.sign(key, alg, _b64_field(body, "value")))}
        # verify: {"alg","digest","value"(signature)} -> {"value": bool}
        ok = keycrypto.verify(key, alg, _b64_field(body, "digest"), _b64_field(body, "value"))
        return {"value": ok}
    except keycrypto.CryptoError as exc:
        raise _bad(str(exc)) from None
