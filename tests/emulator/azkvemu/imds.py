"""Emulated managed-identity endpoint of the Azure Instance Metadata Service (IMDS):

  GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R
      [&client_id=|&object_id=|&msi_res_id=|&mi_res_id=]       header Metadata: true

served on Host 169.254.169.254 (connect-to) and on the emulator's loopback address by path
(what AZURE_POD_IDENTITY_AUTHORITY_HOST points clients at). Only managed identities (kind
"managed": the ones the emulator creates for system-assigned identities of accounts and
workspaces, or `admin add-identity --managed`) get tokens. Without a selector the
"machine's" identity answers: the one chosen with `admin imds-identity`.

Wire shapes (learn.microsoft.com/entra/identity/managed-identities-azure-resources/
how-to-use-vm-token): every member of the answer is a string, `expires_in` included;
errors are {"error", "error_description"}. The missing-Metadata refusal comes before any
other check, because that is what the SDKs' availability probes rely on: @azure/identity
(imdsMsi.ts) sends GET .../oauth2/token with no query and no Metadata header and takes any
answer but a 403 mentioning "unreachable" as "IMDS is there"; azure-identity for Python
(_credentials/imds.py) sends the token request without Metadata (0.3 s timeout) and takes
any HTTP answer as "there". A 400 to the real request then means "no such identity"
(azure-identity: "ManagedIdentityCredential authentication unavailable ...").
IMDS sends no `refresh_in` (MSAL .NET issue 4062: "Managed Identity Endpoints do not give
us refresh_in"; MSAL computes half the lifetime for tokens over two hours).
"""

import re

from .entra import KNOWN_RESOURCES
from .httpmsg import json_response

IMDS_HOSTS = {"169.254.169.254"}
_TOKEN = re.compile(r"^/metadata/identity/oauth2/token/?$", re.I)


def is_imds_path(path: str) -> bool:
    return bool(_TOKEN.match(path))


def imds_error(status, error, description, headers=None):
    return json_response(status, {"error": error, "error_description": description}, headers)


def known_resource(resource: str) -> bool:
    return resource in KNOWN_RESOURCES or resource.rstrip("/") in KNOWN_RESOURCES


def managed_identities(state) -> list:
    with state.lock:
        return [i for i in state.doc["identities"].values() if i.get("kind") == "managed"]


def token_answer(tokens, ident, resource):
    """IMDS's answer (also Azure Arc's, whose agent is an IMDS): strings throughout; a 400
    when no identity answers."""
    if ident is None:
        return imds_error(400, "invalid_request", "Identity not found")
    issued = tokens.issue(ident, resource, tokens.lifetime("managed"))
    claims = issued["claims"]
    lifetime = str(claims["exp"] - claims["iat"])
    return json_response(200, {
        "access_token": issued["token"], "client_id": ident["client_id"],
        "expires_in": lifetime, "expires_on": str(claims["exp"]),
        "ext_expires_in": lifetime, "not_before": str(claims["nbf"]),
        "resource": resource, "token_type": "Bearer"})


def refuse_resource(resource):
    """IMDS's answer to a token request without a resource, or for one Entra does not know,
    or None; Arc's agent answers the same."""
    if not resource:
        return imds_error(400, "invalid_request", "Required query variable 'resource' is missing")
    if not known_resource(resource):
        return imds_error(400, "invalid_resource",
                          f"AADSTS500011: The resource principal named {resource} was not found in the tenant.")
    return None


def refuse_malformed(req, path_pattern):
    """IMDS's answer to a request that is not a token request (path, method, the Metadata
    header the SDKs' probe leaves out, api-version), or None; Arc's agent answers the same."""
    if not path_pattern.match(req.path):
        return imds_error(404, "not_found", "The requested path is not found.")
    if req.method != "GET":
        return imds_error(405, "method_not_allowed", "The requested method is not allowed.")
    if (req.header("Metadata") or "").lower() != "true":
        return imds_error(400, "invalid_request", "Required metadata header not specified")
    if not req.query.get("api-version"):
        return imds_error(400, "invalid_request", "Required query variable 'api-version' is missing")
    return None


class ImdsService:
    def __init__(self, state, tokens):
        self.state = state
        self.tokens = tokens

    def handle(self, req):
        resource = req.query.get("resource") or ""
        refused = refuse_malformed(req, _TOKEN) or refuse_resource(resource)
        if refused:
            return refused
        return token_answer(self.tokens, self._select(req.query), resource)

    def _select(self, q):
        managed = managed_identities(self.state)
        if q.get("client_id"):
            found = [i for i in managed if i["client_id"] == q["client_id"].lower()]
        elif q.get("object_id"):
            found = [i for i in managed if i["object_id"] == q["object_id"].lower()]
        elif q.get("msi_res_id") or q.get("mi_res_id"):
            name = (q.get("msi_res_id") or q.get("mi_res_id")).rstrip("/").split("/")[-1].lower()
            found = [i for i in managed if i["name"].lower() == name]
        else:
            with self.state.lock:
                default = self.state.doc.get("imds_identity")
            found = [i for i in managed if i["client_id"] == default]
        return found[0] if found else None
