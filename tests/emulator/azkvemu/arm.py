"""Emulated Azure Resource Manager (management.azure.com): the control-plane calls
an admin CMK utility and the ARM SDKs make.

  Microsoft.KeyVault/vaults                 GET, PUT, PATCH (the emulator's vaults); list per
                                            subscription or resource group (arm_vaults.py)
  .../vaults/{v}/accessPolicies/{add|replace|remove}   PUT (same state as the data plane's policies)
  {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]  PUT, GET, DELETE, list
                                            (arm_authz.py; scope: subscription, resource group,
                                            vault, key, account or workspace; feeds Key Vault
                                            RBAC and the caller's control-plane RBAC, arm_rbac.py)
  {scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]     GET, list (built-in roles)
  Microsoft.CognitiveServices/accounts      GET, PUT, PATCH (PATCH is a long-running operation:
                                            202 + Azure-AsyncOperation + Location; arm_accounts.py);
                                            CMK rules in cmkrules.py, the account's data key in
                                            foundrykeys.py
  .../locations/{l}/operationResults/{id}   GET (operation status)
  Microsoft.MachineLearningServices/workspaces  GET, PUT, PATCH (arm_ml.py)
  {resource}/providers/Microsoft.Insights/diagnosticSettings[/{name}]  PUT, GET, DELETE, list
                                            (arm_monitor.py; on vaults, accounts, workspaces)
  Microsoft.EventGrid/systemTopics[/{t}/eventSubscriptions/{name}]  PUT, GET, DELETE, list
                                            (arm_eventgrid.py; a vault's events)
  .../accounts/{a}/projects[/{p}]           GET, PUT, PATCH, DELETE, list (Foundry projects, arm_projects.py)
  .../vaults/{v}/privateEndpointConnections[/{name}]  GET, PUT, DELETE, list; DELETE of a vault,
                                            .../locations/{l}/deletedVaults[/{v}[/purge]] (arm_private_link.py)
  Microsoft.ManagedIdentity/userAssignedIdentities  PUT, GET, DELETE, list (arm_msi.py)
  Microsoft.Storage/storageAccounts         GET, PUT, PATCH, with CMK (arm_storage.py)

ArmService authenticates, checks the api-version and the caller's control-plane RBAC, then
dispatches through one route table to the resource providers: arm_vaults.py, arm_accounts.py,
arm_ml.py and arm_authz.py (what they share: arm_resources.py). A new resource is its rows in
the table and a handler class of its own.

Errors use ARM's envelope {"error": {"code", "message"}}. By default any valid ARM
token may do anything; with control-plane RBAC on (`arm_rbac`, see arm_rbac.py)
the caller needs a role assignment granting the request's action.
"""

import json

from . import arm_rbac, clouds
from .arm_accounts import AccountApi
from .arm_authz import AuthorizationApi
from .arm_eventgrid import EventGridApi
from .arm_monitor import MonitorApi
from .arm_ml import WorkspaceApi
from .arm_projects import ProjectApi
from .arm_private_link import PrivateLinkApi
from .arm_msi import UserAssignedIdentityApi
from .arm_resources import accounts, parse_body, workspaces
from .arm_storage import StorageApi
from .arm_vaults import VaultApi
from .foundrykeys import FoundryKeys
from .httpmsg import Response, ServiceError, bad_request
from .routes import ANY, Routes
from .state import StateError
from .tokens import TokenError
from .util import new_uuid

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

_SUB = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers"
_VAULT = _SUB + r"/microsoft\.keyvault/vaults/(?P<name>[^/]+)"
_VAULT_LIST = r"/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?/providers/microsoft\.keyvault/vaults"
_ACCOUNT = _SUB + r"/microsoft\.cognitiveservices/accounts/(?P<name>[^/]+)"
_PROJECT = r"/projects/(?P<project>[^/]+)"
_WORKSPACE = _SUB + r"/microsoft\.machinelearningservices/workspaces/(?P<name>[^/]+)"
_UAI = _SUB + r"/microsoft\.managedidentity/userassignedidentities/(?P<name>[^/]+)"
_UAI_LIST = (r"/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?/providers"
             r"/microsoft\.managedidentity/userassignedidentities")
_STORAGE = _SUB + r"/microsoft\.storage/storageaccounts/(?P<name>[^/]+)"
_OPERATION = (r"/subscriptions/(?P<sub>[^/]+)/providers/(?P<provider>[^/]+)/locations/(?P<loc>[^/]+)"
              r"/(?P<what>operationstatuses|operationresults)/(?P<op>[^/]+)")
_PEC = r"/privateendpointconnections/(?P<pec>[^/]+)"
_DELETED_VAULTS = r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.keyvault/deletedvaults"
_DELETED_VAULT = (r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.keyvault/locations/(?P<loc>[^/]+)"
                  r"/deletedvaults/(?P<name>[^/]+)")
_AUTHZ = r"(?P<scope>.*?)/providers/microsoft\.authorization/(?P<kind>roleassignments|roledefinitions)(?:/(?P<name>[^/]+))?"
# Audit and monitoring (arm_monitor.py, arm_eventgrid.py): diagnostic settings extend a resource
# (the scope is its id); system topics and their event subscriptions are resources of their own.
_DIAG = r"(?P<scope>/subscriptions/.+?)/providers/microsoft\.insights/diagnosticsettings"
_TOPIC_LIST = r"/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?/providers/microsoft\.eventgrid/systemtopics"
_TOPIC = _SUB + r"/microsoft\.eventgrid/systemtopics/(?P<name>[^/]+)"
_TOPIC_SUBS = _SUB + r"/microsoft\.eventgrid/systemtopics/(?P<topic>[^/]+)/eventsubscriptions"

def is_arm_path(path: str) -> bool:
    low = "/" + path.lower().lstrip("/")   # clients that join "/{scope}" with a scope "/subscriptions/..." send "//"
    return low.startswith("/subscriptions/") or low.startswith("/providers/")


def _with_body(handler):
    """A resource provider's handler, called as handler(req, claims, body, **path parameters):
    ARM refuses a body that is not a JSON object before the provider sees the request."""
    return lambda req, claims, **params: handler(req, claims, parse_body(req), **params)


class ArmService:
    def __init__(self, state, tokens, foundry_keys=None, arm_rbac=False):
        self.arm_rbac = bool(arm_rbac)   # control-plane RBAC of the caller (arm_rbac.py); admin can switch it
        self.state = state
        self.tokens = tokens
        self.foundry_keys = foundry_keys or FoundryKeys(state)
        self.vaults = VaultApi(state)
        self.accounts = AccountApi(state, self.foundry_keys)
        self.workspaces = WorkspaceApi(state)
        self.authorization = AuthorizationApi(state)
        self.monitor, self.eventgrid = MonitorApi(state), EventGridApi(state)
        self.projects = ProjectApi(state)
        self.private_link = PrivateLinkApi(state)
        self.identities, self.storage = UserAssignedIdentityApi(state), StorageApi(state)
        resources = [
            ("GET", _VAULT_LIST, self.vaults.list_vaults),
            ("GET", _VAULT, self.vaults.get_vault),
            ("PUT", _VAULT, self.vaults.put_vault),
            ("PATCH", _VAULT, self.vaults.patch_vault),
            ("PUT", _VAULT + r"/accesspolicies/(?P<kind>add|replace|remove)", self.vaults.access_policy),
            ("GET", _ACCOUNT, self.accounts.get_account),
            ("PUT", _ACCOUNT, self.accounts.put_account),
            ("PATCH", _ACCOUNT, self.accounts.patch_account),
            ("GET", _WORKSPACE, self.workspaces.get_workspace),
            ("PUT", _WORKSPACE, self.workspaces.put_workspace),
            ("PATCH", _WORKSPACE, self.workspaces.patch_workspace),
            ("GET", _OPERATION, self.accounts.get_operation),
            ("GET", _DIAG, self.monitor.list_settings),
            ("GET", _DIAG + r"/(?P<name>[^/]+)", self.monitor.get_setting),
            ("PUT", _DIAG + r"/(?P<name>[^/]+)", self.monitor.put_setting),
            ("DELETE", _DIAG + r"/(?P<name>[^/]+)", self.monitor.delete_setting),
            ("GET", _TOPIC_LIST, self.eventgrid.list_topics),
            ("GET", _TOPIC, self.eventgrid.get_topic),
            ("PUT", _TOPIC, self.eventgrid.put_topic),
            ("DELETE", _TOPIC, self.eventgrid.delete_topic),
            ("GET", _TOPIC_SUBS, self.eventgrid.list_subscriptions),
            ("GET", _TOPIC_SUBS + r"/(?P<name>[^/]+)", self.eventgrid.get_subscription),
            ("PUT", _TOPIC_SUBS + r"/(?P<name>[^/]+)", self.eventgrid.put_subscription),
            ("DELETE", _TOPIC_SUBS + r"/(?P<name>[^/]+)", self.eventgrid.delete_subscription),
            ("GET", _ACCOUNT + r"/projects", self.projects.list_projects),
            ("GET", _ACCOUNT + _PROJECT, self.projects.get_project),
            ("PUT", _ACCOUNT + _PROJECT, self.projects.put_project),
            ("PATCH", _ACCOUNT + _PROJECT, self.projects.patch_project),
            ("DELETE", _ACCOUNT + _PROJECT, self.projects.delete_project),
            # Private Link and deleted vaults (arm_private_link.py)
            ("GET", _VAULT + r"/privateendpointconnections", self.private_link.list_connections),
            ("GET", _VAULT + _PEC, self.private_link.get_connection),
            ("PUT", _VAULT + _PEC, self.private_link.put_connection),
            ("DELETE", _VAULT + _PEC, self.private_link.delete_connection),
            ("DELETE", _VAULT, self.private_link.delete_vault),
            ("GET", _DELETED_VAULTS, self.private_link.list_deleted),
            ("GET", _DELETED_VAULT, self.private_link.get_deleted),
            ("POST", _DELETED_VAULT + r"/purge", self.private_link.purge_deleted),
            ("GET", _UAI_LIST, self.identities.list_identities),
            ("GET", _UAI, self.identities.get_identity),
            ("PUT", _UAI, self.identities.put_identity),
            ("DELETE", _UAI, self.identities.delete_identity),
            ("GET", _STORAGE, self.storage.get_storage),
            ("PUT", _STORAGE, self.storage.put_storage),
            ("PATCH", _STORAGE, self.storage.patch_storage),
        ]
        # Role assignments and definitions sit below any scope, so they come first; their
        # handler answers every method and reads the body of a PUT once the scope is known.
        self.routes = Routes([(ANY, _AUTHZ, self.authorization.handle)]
                             + [(method, pattern, _with_body(handler)) for method, pattern, handler in resources],
                             unquote_params=True)

    # ---- entry --------------------------------------------------------------------

    def handle(self, req) -> Response:
        try:
            claims = self._authenticate(req)
            if not req.query.get("api-version"):
                raise bad_request("MissingApiVersionParameter",
                                  "The api-version query parameter (?api-version=) is required for all requests.")
            with self.state.lock:
                resp = self._dispatch(req, claims)
        except StateError as err:
            resp = ServiceError(err.status, {404: "ResourceNotFound", 409: "Conflict"}.get(err.status, "BadRequest"),
                                str(err)).response()
        except ServiceError as err:
            resp = err.response()
        resp.add_header("x-ms-request-id", new_uuid())
        resp.add_header("x-ms-correlation-request-id", new_uuid())
        resp.add_header("Cache-Control", "no-cache")
        resp.add_header("Pragma", "no-cache")
        resp.add_header("Expires", "-1")
        if req.header("x-ms-client-request-id"):
            resp.add_header("x-ms-client-request-id", req.header("x-ms-client-request-id"))
        return resp

    def _authenticate(self, req) -> dict:
        token = req.bearer_token()
        if not token:
            raise ServiceError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                               headers=[("WWW-Authenticate",
                                         'Bearer authorization_uri="https://login.windows.net/", '
                                         'error="invalid_token", error_description="The authentication failed '
                                         'because of missing \'Authorization\' header."')])
        try:
            claims = self.tokens.verify(token)
        except TokenError as err:
            if err.reason == "expired":
                raise ServiceError(401, "ExpiredAuthenticationToken",
                                   "The access token expiry UTC time is earlier than current UTC time.") from None
            raise ServiceError(401, "InvalidAuthenticationToken",
                               "The access token is invalid.") from None
        aud = str(claims.get("aud", ""))
        # Each cloud's Resource Manager takes its own audiences (clouds.py); by loopback path,
        # the public cloud's.
        cloud = clouds.ARM_HOSTS.get((req.hostname or "").lower(), clouds.PUBLIC)
        if aud not in clouds.arm_audiences(cloud):
            allowed = [f"https://{cloud['arm_core']}/", f"https://{cloud['arm_core']}",
                       f"https://{cloud['arm']}/", f"https://{cloud['arm']}"]
            raise ServiceError(
                401, "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{aud}'. It should exactly "
                "match with one of the allowed audiences " + ",".join(f"'{a}'" for a in allowed) + ".")
        return claims

    def _dispatch(self, req, claims):
        path = "/" + req.path.strip("/")
        if self.arm_rbac:
            self._authorize(req.method, path, claims)
        found = self.routes.match(req.method, path)
        if found is None:
            raise ServiceError(404, "NotFound", f"The emulator has no ARM route for {req.method} {req.path}.")
        handler, params = found
        return handler(req, claims, **params)

    def _authorize(self, method, path, claims):
        """ARM checks the caller's role assignments before the resource provider sees the request."""
        need = arm_rbac.required_action(method, path)
        if need is None:
            return
        action, scope = need
        oid = str(claims.get("oid") or "")
        if not arm_rbac.allowed([a for _, a in self.authorization.all_assignments()], oid, action, scope):
            raise arm_rbac.denied(oid, action, scope)

    # ---- admin API helpers (bypass ARM authentication) ----------------------------

    def admin_put(self, kind, body, tenant_id=None):
        """Create or update an account/workspace as an ARM PUT would; returns the ARM JSON."""
        sub = body.pop("subscription_id", None) or DEFAULT_SUBSCRIPTION
        rg = body.pop("resource_group", None) or "rg-emulator"
        name = body.pop("name")
        handler = self.accounts.put_account if kind == "account" else self.workspaces.put_workspace
        with self.state.lock:
            resp = handler(None, {"tid": tenant_id}, body, sub, rg, name)
        return json.loads(resp.body)

    def admin_list(self, kind):
        with self.state.lock:
            if kind == "account":
                return {"value": [self.accounts.account_json(r) for r in accounts(self.state).values()]}
            return {"value": [self.workspaces.workspace_json(r) for r in workspaces(self.state).values()]}

    def admin_assign(self, scope, principal_ref, role_ref):
        """A role assignment at any scope the ARM PUT accepts (arm_authz.py); returns its ARM JSON."""
        return self.authorization.admin_assign(scope, principal_ref, role_ref)
