"""Emulated Microsoft Entra ID: the client-credentials token endpoint and the
discovery documents MSAL-based SDKs fetch before asking for a token.

Clients authenticate with a secret (client_secret or HTTP Basic), or with a client
assertion (client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
client_assertion=JWT): a certificate credential or a federated token, checked by
assertions.py. Entra sends no `refresh_in` to client-credentials requests with its
standard lifetimes (ESTS sends it for authorization-code and refresh-token grants:
microsoft-authentication-library-common-for-objc PR 973), so the emulator sends none.

Errors mirror Entra's JSON ({"error","error_description":"AADSTSnnnn: ...",
"error_codes",...}) because SDKs surface error_description to users and some
branch on the AADSTS code.
"""

import base64
import datetime
import re
from urllib.parse import parse_qs, unquote

from . import clouds
from .assertions import JWT_BEARER, Refusal
from .httpmsg import Response, json_response
from .util import new_uuid, same_secret

# Resources a token can be issued for (the scope without "/.default" becomes `aud`).
KNOWN_RESOURCES = clouds.TOKEN_RESOURCES
_OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}

_TOKEN_V2 = re.compile(r"^/([^/]+)/oauth2/v2\.0/token/?$", re.I)
_TOKEN_V1 = re.compile(r"^/([^/]+)/oauth2/token/?$", re.I)
_OIDC_V2 = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration/?$", re.I)
_OIDC_V1 = re.compile(r"^/([^/]+)/\.well-known/openid-configuration/?$", re.I)
_INSTANCE = re.compile(r"^/([^/]+)/discovery/instance/?$", re.I)
_JWKS = re.compile(r"^/([^/]+)/discovery/(?:v2\.0/)?keys/?$", re.I)


def is_entra_path(path: str) -> bool:
    """Used by the router to send loopback requests (https://127.0.0.1:PORT/...) here."""
    return any(p.match(path) for p in (_TOKEN_V2, _TOKEN_V1, _OIDC_V2, _OIDC_V1, _INSTANCE, _JWKS))


class EntraService:
    def __init__(self, state, token_service, assertions):
        self.state = state
        self.tokens = token_service
        self.assertions = assertions   # AssertionVerifier: certificate and federated credentials

    # ---- routing ---------------------------------------------------------------

    def handle(self, req) -> Response:
        for pattern, method, handler in (
            (_TOKEN_V2, "POST", self._token_v2),
            (_TOKEN_V1, "POST", self._token_v1),
            (_OIDC_V2, "GET", self._openid_v2),
            (_OIDC_V1, "GET", self._openid_v1),
            (_INSTANCE, "GET", self._instance_discovery),
            (_JWKS, "GET", self._jwks),
        ):
            m = pattern.match(req.path)
            if m:
                if req.method != method:
                    return self._error(req, 405, "invalid_request", 900561,
                                       f"The endpoint only accepts {method} requests. Received a {req.method} request.")
                return handler(req, unquote(m.group(1)))
        return self._error(req, 404, "invalid_request", 90027, "The requested endpoint does not exist.")

    # ---- errors ----------------------------------------------------------------

    def _error(self, req, status, error, code, text) -> Response:
        trace = new_uuid()
        correlation = req.header("client-request-id") or new_uuid()
        stamp = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": error,
            "error_description": (f"AADSTS{code}: {text}\r\nTrace ID: {trace}\r\n"
                                  f"Correlation ID: {correlation}\r\nTimestamp: {stamp}"),
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        }
        return json_response(status, body, self._headers(req))

    def _headers(self, req):
        headers = [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache"),
                   ("x-ms-request-id", new_uuid()), ("x-ms-ests-server", "azkv-emulator")]
        if req.header("client-request-id"):
            headers.append(("client-request-id", req.header("client-request-id")))
        return headers

    # ---- token endpoint ----------------------------------------------------------

    def _form(self, req) -> dict:
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def _authenticate_client(self, req, tenant_ref, form):
        """Shared by v1 and v2: returns (identity, None) or (None, error response)."""
        tenant = self.state.find_tenant(tenant_ref)
        if tenant is None:
            return None, self._error(
                req, 400, "invalid_tenant", 90002,
                f"Tenant '{tenant_ref}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud. Check with your subscription administrator, "
                "this may happen if there are no active subscriptions for the tenant.")
        grant = form.get("grant_type")
        if not grant:
            return None, self._error(req, 400, "invalid_request", 900144,
                                     "The request body must contain the following parameter: 'grant_type'.")
        if grant != "client_credentials":
            return None, self._error(req, 400, "unsupported_grant_type", 70003,
                                     f"The app requested an unsupported grant type '{grant}'.")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = req.header("Authorization") or ""
        if basic.lower().startswith("basic "):
            # client_secret_basic: "Basic base64(client_id:client_secret)".
            try:
                cid, _, sec = base64.b64decode(basic[6:].strip()).decode("utf-8").partition(":")
                client_id, secret = unquote(cid), unquote(sec)
            except (ValueError, UnicodeDecodeError):
                pass
        if not client_id:
            return None, self._error(req, 400, "invalid_request", 900144,
                                     "The request body must contain the following parameter: 'client_id'.")
        ident = self.state.doc["identities"].get(client_id.lower())
        if ident is None or ident["tenant_id"] != tenant["id"]:
            return None, self._error(
                req, 400, "unauthorized_client", 700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant['name']}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may "
                "have sent your authentication request to the wrong tenant.")
        assertion_type, assertion = form.get("client_assertion_type"), form.get("client_assertion")
        if assertion_type is not None or assertion is not None:
            return self._authenticate_assertion(req, tenant_ref, tenant, ident, assertion_type, assertion)
        if not secret:
            return None, self._error(
                req, 401, "invalid_client", 7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        if not same_secret(secret, ident["client_secret"]):
            return None, self._error(
                req, 401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the "
                f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.")
        return ident, None

    def _authenticate_assertion(self, req, tenant_ref, tenant, ident, assertion_type, assertion):
        """Certificate credentials and federated tokens (assertions.py)."""
        if not assertion_type:
            return None, self._error(req, 400, "invalid_request", 900144,
                                     "The request body must contain the following parameter: 'client_assertion_type'.")
        if assertion_type != JWT_BEARER:
            # azure-activedirectory-library-for-ruby PR 53: invalid_request, this text.
            return None, self._error(req, 400, "invalid_request", 90011, "Unexpected client assertion type.")
        if not assertion:
            return None, self._error(req, 400, "invalid_request", 900144,
                                     "The request body must contain the following parameter: 'client_assertion'.")
        try:
            self.assertions.verify(req, ident, tenant, tenant_ref, assertion)
        except Refusal as refusal:
            return None, self._error(req, refusal.status, refusal.error, refusal.code, refusal.text)
        return ident, None

    def _resource_unknown(self, req, resource, tenant_name) -> Response:
        return self._error(
            req, 400, "invalid_resource", 500011,
            f"The resource principal named {resource} was not found in the tenant named "
            f"{tenant_name}. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant. You might have "
            "sent your authentication request to the wrong tenant.")

    def _token_v2(self, req, tenant_ref) -> Response:
        form = self._form(req)
        ident, err = self._authenticate_client(req, tenant_ref, form)
        if err:
            return err
        scopes = [s for s in (form.get("scope") or "").split() if s not in _OIDC_SCOPES]
        if not scopes:
            return self._error(req, 400, "invalid_scope", 70011,
                               "The provided request must include a 'scope' input parameter.")
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._error(
                req, 400, "invalid_scope", 70011,
                f"The provided value for the input parameter 'scope' is not valid. The scope "
                f"{' '.join(scopes)} is not valid. Client credential flows must have a scope value "
                "with /.default suffixed to the resource identifier (application ID URI).")
        resource = scopes[0][: -len("/.default")]
        if resource not in KNOWN_RESOURCES:
            return self._resource_unknown(req, resource, self.state.find_tenant(tenant_ref)["name"])
        lifetime = self.tokens.lifetime("entra")
        issued = self.tokens.issue(ident, resource, lifetime)
        expires_in = max(lifetime - 1, 1)   # Entra answers 3599 for a one-hour token
        body = {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
                "access_token": issued["token"]}
        return json_response(200, body, self._headers(req))

    def _token_v1(self, req, tenant_ref) -> Response:
        """The ADAL-era endpoint (resource= instead of scope=); strings, as Entra sends them."""
        form = self._form(req)
        ident, err = self._authenticate_client(req, tenant_ref, form)
        if err:
            return err
        resource = (form.get("resource") or "").strip()
        if not resource:
            return self._error(req, 400, "invalid_request", 900144,
                               "The request body must contain the following parameter: 'resource'.")
        if resource not in KNOWN_RESOURCES and resource.rstrip("/") not in KNOWN_RESOURCES:
            return self._resource_unknown(req, resource, self.state.find_tenant(tenant_ref)["name"])
        lifetime = self.tokens.lifetime("entra")
        issued = self.tokens.issue(ident, resource, lifetime)
        claims = issued["claims"]
        expires_in = str(max(lifetime - 1, 1))
        body = {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
                "expires_on": str(claims["exp"]), "not_before": str(claims["nbf"]),
                "resource": resource, "access_token": issued["token"]}
        return json_response(200, body, self._headers(req))

    # ---- discovery ---------------------------------------------------------------

    def _base(self, req) -> str:
        # Echo the authority the client used, so a client pointed at
        # https://127.0.0.1:PORT keeps talking to the emulator.
        return "https://" + (req.host_header or "login.microsoftonline.com")

    def _tenant_for_discovery(self, tenant_ref):
        if tenant_ref.lower() in ("common", "organizations", "consumers"):
            return "{tenantid}"
        tenant = self.state.find_tenant(tenant_ref)
        return tenant["id"] if tenant else None

    def _openid_v2(self, req, tenant_ref) -> Response:
        tid = self._tenant_for_discovery(tenant_ref)
        if tid is None:
            return self._error(req, 400, "invalid_tenant", 90002,
                               f"Tenant '{tenant_ref}' not found. Check to make sure you have the "
                               "correct tenant ID and are signing into the correct cloud.")
        base = self._base(req)
        doc = {
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
                                 "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
                                 "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": f"{base}/{tid}/kerberos",
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        return json_response(200, doc, self._headers(req))

    def _openid_v1(self, req, tenant_ref) -> Response:
        tid = self._tenant_for_discovery(tenant_ref)
        if tid is None:
            return self._error(req, 400, "invalid_tenant", 90002, f"Tenant '{tenant_ref}' not found.")
        base = self._base(req)
        doc = {
            "token_endpoint": f"{base}/{tid}/oauth2/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tid}/discovery/keys",
            "issuer": f"https://sts.windows.net/{tid}/",
            "authorization_endpoint": f"{base}/{tid}/oauth2/authorize",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "subject_types_supported": ["pairwise"],
            "cloud_instance_name": "microsoftonline.com",
        }
        return json_response(200, doc, self._headers(req))

    def _instance_discovery(self, req, _tenant) -> Response:
        """MSAL asks which host aliases are equivalent before it trusts an authority."""
        base = self._base(req)
        auth_ep = req.query.get("authorization_endpoint", "")
        m = re.match(r"^https://[^/]+/([^/]+)/", auth_ep)
        tenant = m.group(1) if m else "common"
        host = base[len("https://"):]
        metadata = [{
            "preferred_network": "login.microsoftonline.com",
            "preferred_cache": "login.windows.net",
            "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
        }]
        if host not in metadata[0]["aliases"]:
            metadata.append({"preferred_network": host, "preferred_cache": host, "aliases": [host]})
        doc = {
            "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": metadata,
        }
        return json_response(200, doc, self._headers(req))

    def _jwks(self, req, _tenant) -> Response:
        return json_response(200, {"keys": [self.tokens.public_jwk()]}, self._headers(req))

