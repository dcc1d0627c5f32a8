"""Emulated managed-identity endpoint of App Service, Azure Functions and Container Apps
(the local token service their IDENTITY_ENDPOINT / IDENTITY_HEADER point at):

  GET /msi/token?api-version=2019-08-01&resource=R[&client_id=|&principal_id=|&object_id=|&mi_res_id=]
      header X-IDENTITY-HEADER: <the IDENTITY_HEADER secret>

served by path on the emulator's loopback address; `admin app-service --identity X`
arranges the secret and the identity answered without a selector and prints
{"endpoint": "https://127.0.0.1:PORT/msi/token", "header": SECRET, ...}, the values of
IDENTITY_ENDPOINT and IDENTITY_HEADER. Every `admin app-service` rotates the secret, as the
platform does ("The value is rotated by the platform").

Source: learn.microsoft.com/azure/app-service/overview-managed-identity, "Using the REST
protocol": the selectors (principal_id with its alias object_id; at most one of them), and
the answer {"access_token", "expires_on": "1586984735" (a string of epoch seconds),
"resource", "token_type": "Bearer", "client_id"}. Errors are App Service's own shape
{"statusCode", "message", "correlationId"} (azure-sdk-for-net issue 43691; MSAL Node reads
`message` and `correlationId` from it): an identity the app does not have is 400 "Unable to
load the proper Managed Identity." (that issue, and MSAL .NET issues 5245 and 5263). Not
confirmed against real traffic, the emulator's own wording: the 401 for a missing or wrong
X-IDENTITY-HEADER, the 400s for a missing resource, an api-version other than 2019-08-01
(2017-09-01 used a `secret` header and another date format: not emulated), several
selectors, and an unknown resource. No `refresh_in` (MSAL .NET issue 4062).
Only managed identities (kind "managed") are served, as with IMDS.
"""

import re
import secrets

from .httpmsg import json_response
from .imds import known_resource, managed_identities
from .util import new_uuid, same_secret

_TOKEN = re.compile(r"^/msi/token/?$", re.I)
API_VERSION = "2019-08-01"
_SELECTORS = ("client_id", "principal_id", "object_id", "mi_res_id")


def is_appservice_path(path: str) -> bool:
    return bool(_TOKEN.match(path))


def _error(status, message):
    correlation = new_uuid()
    return json_response(status, {"statusCode": status, "message": message, "correlationId": correlation},
                         [("X-CORRELATION-ID", correlation)])


class AppServiceService:
    def __init__(self, state, tokens):
        self.state = state
        self.tokens = tokens

    # ---- admin ------------------------------------------------------------------------------

    def configure(self, ident: dict) -> dict:
        """Make `ident` the app's identity without a selector, with a fresh secret."""
        with self.state.lock:
            self.state.doc["app_service"] = {"identity": ident["client_id"], "secret": secrets.token_hex(16)}
            self.state.save()
            return dict(self.state.doc["app_service"])

    # ---- the token service ----------------------------------------------------------------

    def handle(self, req):
        if req.method != "GET":
            return _error(405, "The requested method is not allowed.")
        with self.state.lock:
            conf = dict(self.state.doc.get("app_service") or {})
        if not same_secret(req.header("X-IDENTITY-HEADER"), conf.get("secret")):
            return _error(401, "Unauthorized: the X-IDENTITY-HEADER header is missing or not valid.")
        q = req.query
        if q.get("api-version") != API_VERSION:
            return _error(400, f"The api-version '{q.get('api-version', '')}' is not supported; use {API_VERSION}.")
        resource = q.get("resource") or ""
        if not resource:
            return _error(400, "The 'resource' query parameter is required.")
        chosen = [name for name in _SELECTORS if q.get(name)]
        if len(chosen) > 1:
            return _error(400, "Only one of client_id, principal_id (object_id) and mi_res_id may be specified.")
        ident = self._select(q, chosen[0] if chosen else None, conf.get("identity"))
        if ident is None:
            return _error(400, "Unable to load the proper Managed Identity.")
        if not known_resource(resource):
            return _error(400, f"AADSTS500011: The resource principal named {resource} was not found in the tenant.")
        issued = self.tokens.issue(ident, resource, self.tokens.lifetime("managed"))
        return json_response(200, {
            "access_token": issued["token"], "expires_on": str(issued["claims"]["exp"]),
            "resource": resource, "token_type": "Bearer", "client_id": ident["client_id"]})

    def _select(self, q, selector, default_client_id):
        managed = managed_identities(self.state)
        if selector == "client_id":
            found = [i for i in managed if i["client_id"] == q["client_id"].lower()]
        elif selector in ("principal_id", "object_id"):
            found = [i for i in managed if i["object_id"] == q[selector].lower()]
        elif selector == "mi_res_id":
            name = q["mi_res_id"].rstrip("/").split("/")[-1].lower()
            found = [i for i in managed if i["name"].lower() == name]
        else:
            found = [i for i in managed if i["client_id"] == default_client_id]
        return found[0] if found else None
