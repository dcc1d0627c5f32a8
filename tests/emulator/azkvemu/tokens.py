"""RS256 JWTs: issued by the emulated Entra ID, checked by the emulated Key Vault.

Tokens are real signed JWTs with v1.0 access-token claims (what Entra issues
for https://vault.azure.net), so clients that decode them (to read exp, tid or
oid) see what they would see in Azure.
"""

import hashlib
import json
import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from . import keycrypto
from .util import b64url, b64url_decode, new_uuid, now


class TokenError(Exception):
    """Why a token was refused; `reason` picks the Key Vault message."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def issuer_for(tenant_id: str) -> str:
    return f"https://sts.windows.net/{tenant_id}/"


# Default lifetimes. Entra's client-credentials tokens: one hour (`serve --token-lifetime`).
# Managed-identity tokens (IMDS, App Service, Arc) live 24 hours ("MSI has token lifetime of
# 24 hours": azure-sdk-for-js issue 23328, azure-sdk-for-java issue 31169).
ENTRA_LIFETIME = 3600
MANAGED_LIFETIME = 86400


class TokenService:
    def __init__(self, state, entra_lifetime: int = ENTRA_LIFETIME, managed_lifetime: int = MANAGED_LIFETIME,
                 issued_log: str = None):
        self.state = state
        # Test-only (`serve --issued-token-log FILE`): every token issued, one a line, so that a
        # test can search the clients' logs and outputs for each of them.
        self.issued_log = issued_log
        self._issued_lock = threading.Lock()
        self._defaults = {"entra": int(entra_lifetime), "managed": int(managed_lifetime)}
        # Set at run time (admin token-lifetime) so a client test can watch a token expire:
        # applies to every token issued from then on, by every issuer; None = the defaults.
        self.lifetime_override = None

    def lifetime(self, kind: str) -> int:
        """Seconds a token issued now lives: kind "entra" (token endpoint, admin issue-token)
        or "managed" (IMDS, App Service, Arc)."""
        if self.lifetime_override is not None:
            return self.lifetime_override
        return self._defaults[kind]

    def lifetimes(self) -> dict:
        return {"override": self.lifetime_override,
                "entra": self.lifetime("entra"), "managed": self.lifetime("managed")}

    def _signing(self):
        rec = self.state.doc["signing_key"]
        return rec["kid"], keycrypto.load_pem(rec["pem"])

    def public_jwk(self) -> dict:
        kid, key = self._signing()
        jwk = {"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid}
        jwk.update(keycrypto.public_jwk_fields(key))
        return jwk

    def issue(self, identity: dict, audience: str, lifetime: int, not_before_offset: int = 0) -> dict:
        """Sign an app-only access token for `identity` and return its claims and text."""
        kid, key = self._signing()
        issued = now()
        tid = identity["tenant_id"]
        claims = {
            "aud": audience,
            "iss": issuer_for(tid),
            "iat": issued,
            "nbf": issued + not_before_offset,
            "exp": issued + lifetime,
            "aio": b64url(hashlib.sha256(new_uuid().encode()).digest()[:24]),
            "appid": identity["client_id"],
            "appidacr": "1",
            "idp": issuer_for(tid),
            "oid": identity["object_id"],
            "rh": "0.emulator.",
            "sub": identity["object_id"],
            "tid": tid,
            "uti": b64url(hashlib.sha256(new_uuid().encode()).digest()[:16]),
            "ver": "1.0",
        }
        header = {"typ": "JWT", "alg": "RS256", "x5t": kid, "kid": kid}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        token = signing_input + "." + b64url(signature)
        if self.issued_log:
            with self._issued_lock, open(self.issued_log, "a", encoding="ascii") as f:
                f.write(token + "\n")
        return {"token": token, "claims": claims}

    def verify(self, token: str, leeway: int = 0) -> dict:
        """Check structure, signature and lifetime; audience and tenant are the caller's job
        because the expected values depend on the vault."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("malformed", "not a JWT")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenError("malformed", str(exc)) from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise TokenError("malformed", "header or claims not an object")
        kid, key = self._signing()
        if header.get("alg") != "RS256" or header.get("kid") != kid:
            raise TokenError("signature_key", parts[0])
        try:
            key.public_key().verify(signature, (parts[0] + "." + parts[1]).encode("ascii"),
                                    padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise TokenError("signature", parts[0]) from exc
        current = now()
        if not isinstance(claims.get("exp"), int) or current >= claims["exp"] + leeway:
            raise TokenError("expired", str(claims.get("exp")))
        if isinstance(claims.get("nbf"), int) and current + leeway < claims["nbf"]:
            raise TokenError("not_yet_valid", str(claims.get("nbf")))
        return claims
