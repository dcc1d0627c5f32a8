"""Client assertions at Entra's token endpoint: `client_assertion_type=urn:ietf:params:oauth:
client-assertion-type:jwt-bearer` and `client_assertion=JWT` instead of a client secret.

Two kinds, told apart by the assertion's `iss`:
- `iss` == the app's client id: a certificate credential (OpenID Connect private_key_jwt;
  learn.microsoft.com/entra/identity-platform/certificate-credentials). Header `alg` RS256
  or PS256 ("Use PSS padding"; MSAL Node signs PS256 with MGF1-SHA256 and a 32-byte salt,
  jsonwebtoken/jwa RSA_PSS_SALTLEN_DIGEST), `x5t#S256` (base64url SHA-256 of the DER) or
  `x5t` (SHA-1). The key is the app's registered certificate with that thumbprint
  (keyCredentials), or, when the header carries `x5c` (standard-base64 DER, leaf first) and
  the app trusts the leaf's subject name (subject name + issuer, "SNI"), the leaf whose chain
  verifies up to the CA trusted for that subject. Claims: `sub` == `iss`, `aud` = the token
  endpoint, `exp`, optional `nbf`, `jti`.
- any other `iss`: a federated token (workload identity federation;
  learn.microsoft.com/entra/workload-id/workload-identity-federation), matched against the
  app's federated identity credentials by issuer, subject (case-sensitive, Entra breaking
  change 2025) and audience, and verified with the issuer's keys (oidc.py).

Token endpoint accepted as `aud`: https://{host}/{tenant}/oauth2/v2.0/token or
https://{host}/{tenant}/oauth2/token, {host} being the Host the client used or
login.microsoftonline.com, {tenant} the tenant id, its domain or what the request path
named. A list-valued `aud` is refused as malformed (panva/openid-client issue 348: Entra
answered AADSTS50027 to an assertion whose aud was [issuer, token endpoint]).
Clock skew: 300 s either side, the default of Microsoft.IdentityModel
(TokenValidationParameters.DefaultClockSkew); Entra's own value is not documented.

Refusals, with the texts Entra sends (sources in each builder below). Not confirmed against
real traffic, the emulator's own choice: the code and text for a wrong `aud` (AADSTS50013),
the status codes of 50048 and 5002730, a missing `jti` answered as malformed, the
federated-token signature texts.
"""

import base64
import binascii
import datetime
import json
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from . import certs, clouds
from .util import b64url_decode, now

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW = 300
SIGNING_ALGS = ("RS256", "PS256")
_FIC_DOC = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
_FIC_DOC_2022 = "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation"


class Refusal(Exception):
    """Entra's answer to an assertion it does not accept."""

    def __init__(self, status: int, error: str, code: int, text: str):
        super().__init__(f"AADSTS{code}: {text}")
        self.status, self.error, self.code, self.text = status, error, code, text


# ---- Entra's refusals --------------------------------------------------------------------

def _malformed():
    # AADSTS50027, invalid_request (panva/openid-client issue 348).
    return Refusal(400, "invalid_request", 50027, "JWT token is invalid or malformed.")


def _unsupported_alg():
    # Text as in microsoft-authentication-library-for-dotnet issue 4712 (error invalid_request).
    return Refusal(400, "invalid_request", 5002730, "Invalid JWT token. Unsupported key for the signing algorithm.")


def _graph_hint(client_id):
    return (f"Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys "
            f"for app Id '{client_id}'. Review the documentation at https://docs.microsoft.com/en-us/graph/"
            "deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/"
            "graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as "
            f"'https://graph.microsoft.com/beta/applications/{client_id}'")


def _key_not_found(client_id, thumbprint_hex):
    # Current wording (learn.microsoft.com Q&A 5915574, 2026; AzureAD/microsoft-authentication-
    # library-for-js issue 8339): the thumbprint clause only when the header named one.
    thumb = f"Thumbprint of key used by client: '{thumbprint_hex}', " if thumbprint_hex else ""
    return Refusal(401, "invalid_client", 700027,
                   "The certificate with identifier used to sign the client assertion is not registered on "
                   f"application. [Reason - The key was not found., {thumb}{_graph_hint(client_id)}].")


def _found_key(record):
    fmt = "%m/%d/%Y %H:%M:%S"
    start = datetime.datetime.utcfromtimestamp(record["not_before"]).strftime(fmt)
    end = datetime.datetime.utcfromtimestamp(record["not_after"]).strftime(fmt)
    return f"Found key 'Start={start}, End={end}'"


def _bad_signature(client_id, thumbprint_hex, record):
    # "[Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of
    # key used by client: '...', Found key 'Start=..., End=...', Please visit ..." (the same reason
    # text Entra gives under AADSTS50013, microsoftgraph/msgraph-sdk-php issue 1585).
    found = f"{_found_key(record)}, " if record else ""
    return Refusal(401, "invalid_client", 700027,
                   "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key "
                   f"to verify the signature failed., Thumbprint of key used by client: '{thumbprint_hex}', "
                   f"{found}{_graph_hint(client_id)}].")


def _key_expired(client_id, thumbprint_hex, record):
    # "[Reason - The key used is expired. Thumbprint of key used by client: ..., Found key
    # 'Start=06/29/2021 21:13:15, End=06/29/2023 21:13:15'" (MicrosoftDocs troubleshooting text).
    return Refusal(401, "invalid_client", 700027,
                   "Client assertion contains an invalid signature. [Reason - The key used is expired., "
                   f"Thumbprint of key used by client: '{thumbprint_hex}', {_found_key(record)}, "
                   f"{_graph_hint(client_id)}].")


def _federated_bad_signature(reason):
    return Refusal(401, "invalid_client", 700027, f"Client assertion contains an invalid signature. [Reason - {reason}]")


def _iso7(seconds: float) -> str:
    stamp = datetime.datetime.utcfromtimestamp(seconds)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int((seconds % 1) * 10**7):07d}Z"


def _out_of_range(nbf, exp):
    # Wording of AzureAD/microsoft-authentication-library-for-java issue 984 (2025) and .NET
    # issue 4951; an absent nbf reads "valid from 1970-01-01T00:00:00.0000000Z" (obikuro/Sato
    # issue 1).
    return Refusal(401, "invalid_client", 700024,
                   f"Client assertion is not within its valid time range. Current time: {_iso7(time.time())}, "
                   f"assertion valid from {_iso7(nbf or 0)}, expiry time of assertion {_iso7(exp or 0)}. "
                   "Review the documentation at https://learn.microsoft.com/entra/identity-platform/"
                   "certificate-credentials .")


def _subject_not_issuer():
    # Text of AzureAD/microsoft-authentication-library-for-java issue 430.
    return Refusal(400, "invalid_request", 50048, "Subject must match the issuer claim in the client assertion.")


def _wrong_audience(expected):
    # Not confirmed (see the module docstring).
    return Refusal(400, "invalid_request", 50013,
                   f"Assertion audience claim does not match the required value. Expected '{expected}'.")


def _no_issuer_match(iss):
    # Azure/azure-workload-identity issue 1200 (2024).
    return Refusal(401, "invalid_client", 700211,
                   f"No matching federated identity record found for presented assertion issuer '{iss}'. Please "
                   "check your federated identity credential Subject, Audience and Issuer against the presented "
                   f"assertion. {_FIC_DOC_2022}")


def _no_subject_match(sub):
    # dotnet/maui PR 31978 and Azure/azure-workload-identity issue 1200 (2025).
    return Refusal(401, "invalid_client", 700213,
                   f"No matching federated identity record found for presented assertion subject '{sub}'. Check "
                   "your federated identity credential Subject, Audience and Issuer against the presented "
                   f"assertion. {_FIC_DOC}")


def _no_record_match(iss, sub, aud):
    # The general form, naming all three (Azure/azure-workload-identity issue 616): what Entra
    # answers here when issuer and subject match a record but the audience does not.
    return Refusal(400, "invalid_request", 70021,
                   f"No matching federated identity record found for presented assertion. Assertion Issuer: "
                   f"'{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'. {_FIC_DOC_2022}")


# ---- helpers --------------------------------------------------------------------------------

def _parse(assertion: str):
    parts = assertion.split(".")
    if len(parts) != 3 or not all(parts):
        raise _malformed()
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise _malformed() from None
    if not isinstance(header, dict) or not isinstance(claims, dict) or not isinstance(header.get("alg"), str):
        raise _malformed()
    return header, claims, (parts[0] + "." + parts[1]).encode("ascii"), signature


def _verify_rsa(public_key, alg, signing_input, signature) -> bool:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    pad = (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if alg == "PS256"
           else padding.PKCS1v15())
    try:
        public_key.verify(signature, signing_input, pad, hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def _signed_by(child, issuer) -> bool:
    """child's signature verifies with issuer's key and names issuer as its issuer."""
    if child.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(),
                       child.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _is_ca(cert) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _current(cert, at) -> bool:
    return cert.not_valid_before <= at <= cert.not_valid_after


def _same_subject(trusted: str, cert) -> bool:
    try:
        want = certs.parse_name(trusted).rfc4514_string().lower()
    except ValueError:
        return False
    return want == cert.subject.rfc4514_string().lower()


class AssertionVerifier:
    def __init__(self, state, oidc, ca_file):
        self.state = state
        self.oidc = oidc
        self.ca_file = ca_file

    def verify(self, req, ident: dict, tenant: dict, tenant_ref: str, assertion: str) -> None:
        """Accept the assertion for `ident` (raise Refusal otherwise)."""
        header, claims, signing_input, signature = _parse(assertion)
        iss = claims.get("iss")
        if not isinstance(iss, str) or not isinstance(claims.get("sub"), str):
            raise _malformed()
        if iss.lower() == ident["client_id"].lower():
            self._certificate(req, ident, tenant, tenant_ref, header, claims, signing_input, signature)
        else:
            self._federated(ident, header, claims, signing_input, signature)

    # ---- certificate credentials ---------------------------------------------------------

    def _certificate(self, req, ident, tenant, tenant_ref, header, claims, signing_input, signature):
        client_id = ident["client_id"]
        alg = header["alg"]
        if alg not in SIGNING_ALGS:
            raise _unsupported_alg()
        thumb_name, thumb_value = (("x5t#S256", header.get("x5t#S256")) if header.get("x5t#S256")
                                   else ("x5t", header.get("x5t")))
        thumb_hex = None
        if isinstance(thumb_value, str):
            try:
                thumb_hex = b64url_decode(thumb_value).hex().upper() or None
            except ValueError:
                thumb_hex = None
        with self.state.lock:
            record = next((c for c in ident.get("certificates", [])
                           if isinstance(thumb_value, str) and c[thumb_name] == thumb_value), None)
        if record is not None:
            current = now()
            if not record["not_before"] <= current <= record["not_after"]:
                raise _key_expired(client_id, thumb_hex, record)
            cert = x509.load_der_x509_certificate(base64.b64decode(record["der"]))
            if not _verify_rsa(cert.public_key(), alg, signing_input, signature):
                raise _bad_signature(client_id, thumb_hex, record)
        else:
            leaf = self._trusted_chain_leaf(ident, header.get("x5c"))
            if leaf is None:
                raise _key_not_found(client_id, thumb_hex)
            if not _verify_rsa(leaf.public_key(), alg, signing_input, signature):
                raise _bad_signature(client_id, certs.thumbprints(
                    leaf.public_bytes(serialization.Encoding.DER))["thumbprint"], None)
        if claims["sub"] != claims["iss"]:
            raise _subject_not_issuer()
        aud = claims.get("aud")
        if not isinstance(aud, str):
            raise _malformed()
        accepted = self._token_endpoints(req, tenant, tenant_ref)
        if aud.lower() not in accepted:
            raise _wrong_audience(f"https://{req.host_header}/{tenant['id']}/oauth2/v2.0/token")
        self._check_times(claims)
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise _malformed()

    def _trusted_chain_leaf(self, ident, x5c):
        """Subject name + issuer: the x5c leaf, when the app trusts its subject and the chain
        verifies up to the CA trusted for it; else None (Entra then looks the thumbprint up
        among the registered keys, as microsoft-authentication-library-for-js issue 8339 shows)."""
        with self.state.lock:
            trusted = list(ident.get("trusted_subjects", []))
        if not trusted or not isinstance(x5c, list) or not x5c:
            return None
        try:
            chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
        except (ValueError, TypeError, binascii.Error):
            return None
        leaf, at = chain[0], datetime.datetime.utcnow()
        for rule in trusted:
            if not _same_subject(rule["subject"], leaf):
                continue
            ca = self._ca(rule)
            if ca is None or not all(_current(c, at) for c in chain + [ca]):
                continue
            links_ok = all(_signed_by(chain[i], chain[i + 1]) and _is_ca(chain[i + 1]) for i in range(len(chain) - 1))
            top = chain[-1]
            anchored = top.public_bytes(serialization.Encoding.DER) == ca.public_bytes(
                serialization.Encoding.DER) or (_signed_by(top, ca) and _is_ca(ca))
            if links_ok and anchored:
                return leaf
        return None

    def _ca(self, rule):
        try:
            if rule.get("ca_pem"):
                return x509.load_pem_x509_certificate(rule["ca_pem"].encode("ascii"))
            with open(self.ca_file, "rb") as fh:
                return x509.load_pem_x509_certificate(fh.read())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _token_endpoints(req, tenant, tenant_ref) -> set:
        hosts = {(req.host_header or "").lower()} | clouds.ENTRA_HOSTS
        tenants = {tenant["id"].lower(), tenant["domain"].lower(), (tenant_ref or "").lower()}
        return {f"https://{h}/{t}/oauth2/{v}token" for h in hosts for t in tenants for v in ("v2.0/", "")}

    @staticmethod
    def _check_times(claims):
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, (int, float)) or (nbf is not None and not isinstance(nbf, (int, float))):
            raise _out_of_range(nbf if isinstance(nbf, (int, float)) else None,
                                exp if isinstance(exp, (int, float)) else None)
        current = time.time()
        if current > exp + CLOCK_SKEW or (nbf is not None and current + CLOCK_SKEW < nbf):
            raise _out_of_range(nbf, exp)

    # ---- federated credentials -----------------------------------------------------------

    def _federated(self, ident, header, claims, signing_input, signature):
        iss, sub, aud = claims["iss"], claims["sub"], claims.get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not all(isinstance(a, str) for a in auds):
            raise _malformed()
        with self.state.lock:
            records = [dict(r) for r in ident.get("federated_credentials", [])]
        by_issuer = [r for r in records if r["issuer"] == iss]
        if not by_issuer:
            raise _no_issuer_match(iss)
        by_subject = [r for r in by_issuer if r["subject"] == sub]
        if not by_subject:
            raise _no_subject_match(sub)
        if not any(set(r["audiences"]) & set(auds) for r in by_subject):
            raise _no_record_match(iss, sub, ",".join(auds))
        if header["alg"] != "RS256":
            raise _unsupported_alg()
        key = self.oidc.public_key(iss, header.get("kid")) if isinstance(header.get("kid"), str) else None
        if key is None:
            raise _federated_bad_signature("The key was not found.")
        if not _verify_rsa(key, "RS256", signing_input, signature):
            raise _federated_bad_signature("Key was found, but use of the key to verify the signature failed.")
        self._check_times(claims)

