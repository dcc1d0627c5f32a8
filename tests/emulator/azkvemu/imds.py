"""Emulated managed-identity endpoint of the Azure Instance Metadata Service (IMDS):

  GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R
      [&client_id=|&object_id=|&msi_res_id=|&mi_res_id=]       header Metadata: true

served on Host 169.254.169.254 (connect-to) and on the emulator's loopback
address by path (what AZURE_POD_IDENTITY_AUTHORITY_HOST / IDENTITY_ENDPOINT
overrides point clients at). Only managed identities (kind "managed": the
ones the emulator creates for system-assigned identities of accounts and
workspaces, or `admin add-identity --managed`) get tokens. Without a selector
the "machine's" identity answers: the one chosen with `admin imds-identity`.
"""

import re

from .entra import KNOWN_RESOURCES
from .httpmsg import json_response

IMDS_HOSTS = {"169.254.169.254"}
_TOKEN = re.compile(r"^/metadata/identity/oauth2/token/?$", re.I)


def is_imds_path(path: str) -> bool:
    return bool(_TOKEN.match(path))


def _err(status, error, description):
    return json_response(status, {"error": error, "error_description": description})


class ImdsService:
    def __init__(self, state, tokens, token_lifetime=86400):
        self.state = state
        self.tokens = tokens
        self.token_lifetime = token_lifetime

    def handle(self, req):
        if not _TOKEN.match(req.path):
            return _err(404, "not_found", "The requested path is not found.")
        if req.method != "GET":
            return _err(405, "method_not_allowed", "The requested method is not allowed.")
        if (req.header("Metadata") or "").lower() != "true":
            return _err(400, "invalid_request", "Required metadata header not specified")
        q = req.query
        if not q.get("api-version"):
            return _err(400, "invalid_request", "Required query variable 'api-version' is missing")
        resource = q.get("resource") or ""
        if not resource:
            return _err(400, "invalid_request", "Required query variable 'resource' is missing")
        if resource not in KNOWN_RESOURCES and resource.rstrip("/") not in KNOWN_RESOURCES:
            return _err(400, "invalid_resource",
                        f"AADSTS500011: The resource principal named {resource} was not found in the tenant.")
        ident = self._select(q)
        if ident is None:
            return _err(400, "invalid_request", "Identity not found")
        issued = self.tokens.issue(ident, resource, self.token_lifetime)
        claims = issued["claims"]
        return json_response(200, {
            "access_token": issued["token"], "client_id": ident["client_id"],
            "expires_in": str(claims["exp"] - claims["iat"]), "expires_on": str(claims["exp"]),
            "ext_expires_in": str(claims["exp"] - claims["iat"]), "not_before": str(claims["nbf"]),
            "resource": resource, "token_type": "Bearer"})

    def _select(self, q):
        with self.state.lock:
            managed = [i for i in self.state.doc["identities"].values() if i.get("kind") == "managed"]
            if q.get("client_id"):
                found = [i for i in managed if i["client_id"] == q["client_id"].lower()]
            elif q.get("object_id"):
                found = [i for i in managed if i["object_id"] == q["object_id"].lower()]
            elif q.get("msi_res_id") or q.get("mi_res_id"):
                name = (q.get("msi_res_id") or q.get("mi_res_id")).rstrip("/").split("/")[-1].lower()
                found = [i for i in managed if i["name"].lower() == name]
            else:
                default = self.state.doc.get("imds_identity")
                found = [i for i in managed if i["client_id"] == default]
            return found[0] if found else None
