"""A test OpenID Connect issuer: the "external identity provider" of workload identity
federation (Kubernetes service-account tokens, GitHub Actions tokens...), so federated
credentials can be tested without one.

Issuers live in the state (`oidc_issuers: {url: {kid, pem}}`, one RSA-2048 signing key
each). The built-in one, ISSUER, exists from the first start; `admin issue-federated-token
--issuer URL` and `add-federated-credential --issuer URL` create others on demand, so a test
can present a token from an issuer an app does not trust. Entra (assertions.py) verifies a
federated assertion with the keys of the issuer its `iss` names, as Entra does after fetching
the issuer's discovery document and JWKS (learn.microsoft.com/entra/workload-id/
workload-identity-federation); the emulator already holds them and never goes to the network.

The built-in issuer publishes, like any OIDC issuer:
  GET https://oidc.azkv-emulator.test/.well-known/openid-configuration    (by host, connect-to)
  GET https://oidc.azkv-emulator.test/keys
  GET https://127.0.0.1:PORT/_oidc/.well-known/openid-configuration       (by path on loopback)
  GET https://127.0.0.1:PORT/_oidc/keys
The issuer URL does not depend on the port, so tokens and federated credentials survive a
restart. Tokens carry what a Kubernetes projected service-account token carries for Azure
workload identity: iss, sub, aud, iat, nbf, exp, jti; RS256 with `kid`.
"""

import json
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import keycrypto
from .httpmsg import json_response
from .util import b64url, new_uuid, now

ISSUER = "https://oidc.azkv-emulator.test/"
OIDC_HOSTS = {"oidc.azkv-emulator.test"}
PREFIX = "/_oidc"
# The audience Entra expects in a federated token unless the credential says otherwise
# (Graph federatedIdentityCredential: "audiences ... should be set to api://AzureADTokenExchange").
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"

_DISCOVERY = re.compile(r"^/\.well-known/openid-configuration/?$")
_KEYS = re.compile(r"^/keys/?$")


def is_oidc_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def valid_issuer_url(url: str) -> bool:
    # Entra requires an https issuer URL for a federated credential.
    return bool(re.match(r"^https://[^\s/?#]+(/[^\s?#]*)?$", url or ""))


class OidcIssuers:
    def __init__(self, state):
        self.state = state
        self.ensure(ISSUER)

    def ensure(self, url: str) -> dict:
        """The issuer's signing key record, created (and saved) on first use."""
        with self.state.lock:
            issuers = self.state.doc.setdefault("oidc_issuers", {})
            if url not in issuers:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                issuers[url] = {"kid": new_uuid().replace("-", ""), "pem": keycrypto.to_pem(key)}
                self.state.save()
            return issuers[url]

    def known(self, url: str) -> bool:
        with self.state.lock:
            return url in self.state.doc.get("oidc_issuers", {})

    def public_key(self, url: str, kid: str):
        """The issuer's verification key named `kid`, or None."""
        with self.state.lock:
            rec = self.state.doc.get("oidc_issuers", {}).get(url)
        if rec is None or rec["kid"] != kid:
            return None
        return keycrypto.load_pem(rec["pem"]).public_key()

    def issue(self, subject: str, audience: str = DEFAULT_AUDIENCE, lifetime: int = 3600,
              issuer: str = ISSUER, not_before_offset: int = 0) -> dict:
        rec = self.ensure(issuer)
        issued = now()
        claims = {"aud": audience, "exp": issued + int(lifetime), "iat": issued, "iss": issuer,
                  "jti": new_uuid(), "nbf": issued + int(not_before_offset), "sub": subject}
        header = {"alg": "RS256", "kid": rec["kid"], "typ": "JWT"}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = keycrypto.load_pem(rec["pem"]).sign(signing_input.encode("ascii"), padding.PKCS1v15(),
                                                       hashes.SHA256())
        return {"token": signing_input + "." + b64url(signature), "issuer": issuer, "subject": subject,
                "audience": audience, "exp": claims["exp"]}

    # ---- discovery (the built-in issuer) --------------------------------------------------

    def handle(self, req):
        path = req.path[len(PREFIX):] if is_oidc_path(req.path) else req.path
        if req.method != "GET":
            return json_response(405, {"error": "method_not_allowed"})
        if _DISCOVERY.match(path):
            base = ISSUER.rstrip("/") if req.hostname in OIDC_HOSTS else f"https://{req.host_header}{PREFIX}"
            return json_response(200, {
                "issuer": ISSUER,
                "jwks_uri": f"{base}/keys",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })
        if _KEYS.match(path):
            rec = self.ensure(ISSUER)
            jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": rec["kid"]}
            jwk.update(keycrypto.public_jwk_fields(keycrypto.load_pem(rec["pem"])))
            return json_response(200, {"keys": [jwk]})
        return json_response(404, {"error": "not_found"})
