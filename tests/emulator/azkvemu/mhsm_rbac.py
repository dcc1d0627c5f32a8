"""Managed HSM local RBAC: who may do what in a Managed HSM.

A Managed HSM has no access policies and ignores Azure RBAC for its data
plane: its own role assignments, made on the HSM itself, decide ("Managed
HSM local RBAC built-in roles", built-in-roles.md; access-control.md). An
assignment names a principal, a role definition and a scope: "/" (the whole
HSM), "/keys" (every key) or "/keys/{name}" (one key). It applies to its
scope and everything below it.

  {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]   PUT, GET, DELETE, list
  {scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]     GET, list (built-in roles)

on the HSM's own host (data-plane spec rbac.json, 7.2+). Shapes follow the
Azure SDK for JavaScript's recordings against a real Managed HSM (keyvault-admin,
Nov 2022): role definitions {"id":"Microsoft.KeyVault/providers/Microsoft.Authorization/
roleDefinitions/{id}","name","properties":{"assignableScopes":["/"],"description":"",
"permissions":[{"actions":[],"dataActions":[...],"notActions":[],"notDataActions":[]}],
"roleName","type":"AKVBuiltInRole"},"type":"Microsoft.Authorization/roleDefinitions"};
a PUT of an assignment answers 201 {"id":"/providers/Microsoft.Authorization/
roleAssignments/{name}","name","properties":{"principalId","roleDefinitionId","scope":"/"},
"type":"Microsoft.Authorization/roleAssignments"}, a DELETE 200 with the same body,
a GET of a missing one 404 RoleAssignmentNotFound "Requested role assignment not
found (Activity ID: ...)". Custom role definitions are not emulated (built-in
ones only).
"""

import json
import re

from . import roles
from .httpmsg import Response, ServiceError, json_response
from .util import is_guid, new_uuid

PREFIX = "Microsoft.KeyVault/managedHsm/"
_DEF_ID = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/"


def _p(*actions):
    return [PREFIX + a for a in actions]


_ROLE_MGMT = _p("roleAssignments/delete/action", "roleAssignments/read/action",
                "roleAssignments/write/action", "roleDefinitions/read/action",
                "roleDefinitions/write/action", "roleDefinitions/delete/action")

# Built-in roles: id -> (roleName, dataActions). Ids, names and data actions as the
# service lists them (recording above; Crypto User with rotate, derive and rng as in
# 2022). "Managed HSM Restore" is from built-in-roles.md (later than the recording).
# No built-in role has notDataActions.
BUILTIN_ROLES = {
    "a290e904-7015-4bba-90c8-60543313cdb4": ("Managed HSM Administrator", _ROLE_MGMT + _p(
        "securitydomain/download/action", "securitydomain/download/read",
        "securitydomain/upload/action", "securitydomain/upload/read", "securitydomain/transferkey/read",
        "backup/start/action", "restore/start/action", "backup/status/action", "restore/status/action",
        "settings/read/action", "settings/write/action")),
    "515eb02d-2335-4d2d-92f2-b1cbdf9c3778": ("Managed HSM Crypto Officer", _ROLE_MGMT + _p(
        "keys/deletedKeys/read/action", "keys/deletedKeys/delete", "keys/deletedKeys/recover/action",
        "keys/export/action")),
    "21dbd100-6940-42c2-9190-5d6cb909625b": ("Managed HSM Crypto User", _p(
        "roleDefinitions/read/action", "roleAssignments/read/action", "keys/read/action",
        "keys/write/action", "keys/delete", "keys/create", "keys/rotate/action", "keys/import/action",
        "keys/release/action", "keys/backup/action", "keys/restore/action", "keys/encrypt/action",
        "keys/decrypt/action", "keys/wrap/action", "keys/unwrap/action", "keys/sign/action",
        "keys/verify/action", "keys/derive/action", "rng/action")),
    "4bd23610-cdcf-4971-bdee-bdc562cc28e4": ("Managed HSM Policy Administrator", _p(
        "roleDefinitions/read/action", "roleDefinitions/write/action", "roleDefinitions/delete/action",
        "roleAssignments/read/action", "roleAssignments/write/action", "roleAssignments/delete/action")),
    "2c18b078-7c48-4d3a-af88-5a3a1b3f82b3": ("Managed HSM Crypto Auditor", _p(
        "roleAssignments/read/action", "roleDefinitions/read/action", "keys/read/action",
        "keys/deletedKeys/read/action")),
    "33413926-3206-4cdd-b39a-83574fe37a17": ("Managed HSM Crypto Service Encryption User", _p(
        "keys/read/action", "keys/wrap/action", "keys/unwrap/action")),
    "21dbd100-6940-42c2-9190-5d6cb909625c": ("Managed HSM Crypto Service Release User", _p(
        "keys/release/action")),
    "7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8": ("Managed HSM Backup User", _p(
        "backup/start/action", "backup/status/action", "keys/backup/action")),
    "6efe6056-5259-49d2-8b3d-d3d73544b20b": ("Managed HSM Restore", _p(
        "restore/start/action", "restore/status/action", "keys/restore/action")),
}
# The documentation's names where the service's differ.
_ALIASES = {"managed hsm backup": "7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8",
            "managed hsm restore user": "6efe6056-5259-49d2-8b3d-d3d73544b20b"}

SCOPE_RE = re.compile(r"^/(?:keys(?:/[0-9A-Za-z-]{1,127})?)?$")
_AUTHZ_PATH = re.compile(r"^(?P<scope>.*?)/providers/Microsoft\.Authorization/"
                         r"(?P<kind>roleAssignments|roleDefinitions)(?:/(?P<name>[^/]+))?/?$", re.I)


def find_role(ref: str):
    """A built-in role id by id, name (case-insensitive) or role-definition id."""
    return roles.find_role(BUILTIN_ROLES, ref, _ALIASES)


def normalize_scope(scope: str):
    """ "/", "/keys" or "/keys/{name}" from what a client sends ("", "//", "keys",
    "//keys/k1"...); None when it is no Managed HSM scope."""
    scope = "/" + "/".join(part for part in (scope or "").split("/") if part)
    return scope if SCOPE_RE.match(scope) else None


def assignments(vault: dict) -> list:
    return vault.setdefault("local_role_assignments", [])


def allowed(vault: dict, oid: str, action: str, resource: str) -> bool:
    return roles.grants(assignments(vault), BUILTIN_ROLES, oid, action, resource)


def forbidden(vault: dict, claims: dict, action: str, resource: str) -> ServiceError:
    # The wording is the emulator's own, after Key Vault's RBAC denial (not seen
    # from a Managed HSM in recordings): it names the caller, the data action and
    # the scope, which is what a person granting the role needs.
    return ServiceError(
        403, "Forbidden",
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments or role definitions were changed recently, please observe "
        "propagation time.\r\n"
        f"Caller: {roles.caller(claims)}\r\n"
        f"Action: '{action}'\r\n"
        f"Resource: '{resource}'\r\n"
        "Assignment: (not found)\r\n"
        f"Vault: {vault['name']};location={vault['location']}\r\n",
        "ForbiddenByRbac")


def check(vault: dict, claims: dict, permission: str, key_name: str = None) -> None:
    """Raise 403 unless the caller holds the data action behind `permission`
    (a keys route's access-policy permission name) at /keys/{key_name} (or /keys)."""
    action = PREFIX + roles.DATA_ACTIONS[permission][1]
    resource = f"/keys/{key_name}" if key_name else "/keys"
    if not allowed(vault, (claims.get("oid") or ""), action, resource):
        raise forbidden(vault, claims, action, resource)


# ---- wire shapes -------------------------------------------------------------------------------

def definition_json(role_id: str) -> dict:
    name, data_actions = BUILTIN_ROLES[role_id]
    return {"id": _DEF_ID + role_id, "name": role_id,
            "properties": {"assignableScopes": ["/"], "description": "",
                           "permissions": [{"actions": [], "dataActions": list(data_actions),
                                            "notActions": [], "notDataActions": []}],
                           "roleName": name, "type": "AKVBuiltInRole"},
            "type": "Microsoft.Authorization/roleDefinitions"}


def assignment_json(a: dict) -> dict:
    prefix = "" if a["scope"] == "/" else a["scope"]
    return {"id": f"{prefix}/providers/Microsoft.Authorization/roleAssignments/{a['name']}",
            "name": a["name"],
            "properties": {"principalId": a["principal_id"],
                           "roleDefinitionId": _DEF_ID + a["role_definition_id"],
                           "scope": a["scope"]},
            "type": "Microsoft.Authorization/roleAssignments"}


def add_assignment(state, vault: dict, name: str, principal_id: str, role_id: str, scope: str) -> dict:
    """Stores an assignment (caller holds state.lock and has validated it)."""
    a = {"name": name, "principal_id": principal_id.lower(), "role_definition_id": role_id,
         "scope": scope}
    assignments(vault).append(a)
    state.save()
    return a


def remove_assignment(state, vault: dict, name: str):
    for a in list(assignments(vault)):
        if a["name"].lower() == name.lower():
            assignments(vault).remove(a)
            state.save()
            return a
    return None


# ---- the data-plane API ------------------------------------------------------------------------

def is_authz_path(path: str) -> bool:
    return _AUTHZ_PATH.match(path) is not None


def _activity():
    return new_uuid()


def handle(state, req, vault: dict, claims: dict) -> Response:
    """Role assignments and definitions on the HSM host (api-version checked by the caller)."""
    m = _AUTHZ_PATH.match(req.path)
    scope = normalize_scope(m.group("scope"))
    kind, name = m.group("kind").lower(), m.group("name")
    if scope is None:
        raise ServiceError(400, "BadParameter",
                           f"Invalid scope '{m.group('scope')}': a Managed HSM scope is /, /keys or "
                           f"/keys/{{key name}} (Activity ID: {_activity()})")
    verb = {"GET": "read", "PUT": "write", "DELETE": "delete"}.get(req.method)
    if verb is None:
        raise ServiceError(405, "MethodNotAllowed",
                           f"The requested resource does not support http method '{req.method}'.")
    action = f"{PREFIX}{'roleAssignments' if kind == 'roleassignments' else 'roleDefinitions'}/{verb}/action"
    with state.lock:
        if not allowed(vault, claims.get("oid") or "", action, scope):
            raise forbidden(vault, claims, action, scope)
        if kind == "roledefinitions":
            return _definitions(req, name)
        return _assignments(state, req, vault, scope, name)


def _definitions(req, name):
    if req.method == "GET" and not name:
        return json_response(200, {"value": [definition_json(r) for r in BUILTIN_ROLES]})
    role_id = (name or "").lower()
    if req.method == "GET":
        if role_id not in BUILTIN_ROLES:
            raise ServiceError(404, "RoleDefinitionNotFound",
                               f"Requested role definition not found (Activity ID: {_activity()})")
        return json_response(200, definition_json(role_id))
    if role_id in BUILTIN_ROLES:
        # Recorded: a PUT over a built-in role's id.
        raise ServiceError(400, "BadParameter",
                           "Cannot re-use the name/GUID matching that of a built-in role. Please use a "
                           f"unique role ID. (Activity ID: {_activity()})")
    raise ServiceError(501, "NotImplemented", "The emulator serves the built-in role definitions only.")


def _assignments(state, req, vault, scope, name):
    if req.method == "GET" and not name:
        below = [a for a in assignments(vault) if roles.covers(scope, a["scope"])]
        return json_response(200, {"value": [assignment_json(a) for a in below]})
    if not name:
        raise ServiceError(405, "MethodNotAllowed",
                           f"The requested resource does not support http method '{req.method}'.")
    existing = next((a for a in assignments(vault) if a["name"].lower() == name.lower()), None)
    if req.method == "GET":
        if existing is None:
            raise ServiceError(404, "RoleAssignmentNotFound",
                               f"Requested role assignment not found (Activity ID: {_activity()})")
        return json_response(200, assignment_json(existing))
    if req.method == "DELETE":
        if existing is None:
            raise ServiceError(404, "RoleAssignmentNotFound",
                               f"Requested role assignment not found (Activity ID: {_activity()})")
        remove_assignment(state, vault, name)
        return json_response(200, assignment_json(existing))
    # PUT
    try:
        body = json.loads(req.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = None
    props = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(props, dict):
        raise ServiceError(400, "BadParameter", "Property 'properties' is required.")
    if not is_guid(name):
        raise ServiceError(400, "BadParameter",
                           f"The role assignment name '{name}' is not a GUID (Activity ID: {_activity()})")
    role_id = find_role(props.get("roleDefinitionId") or "")
    principal = props.get("principalId")
    if role_id is None:
        raise ServiceError(400, "BadParameter",
                           f"Role definition '{props.get('roleDefinitionId')}' not found "
                           f"(Activity ID: {_activity()})")
    if not isinstance(principal, str) or not principal:
        raise ServiceError(400, "BadParameter", "Property 'properties.principalId' is required.")
    if existing is not None:
        raise ServiceError(409, "Conflict",
                           f"The role assignment '{name}' already exists (Activity ID: {_activity()})")
    return json_response(201, assignment_json(add_assignment(state, vault, name, principal, role_id,
                                                             scope)))
