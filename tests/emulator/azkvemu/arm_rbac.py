"""Control-plane authorization of the ARM caller (Azure RBAC on management.azure.com), opt-in.

Off by default: any valid ARM token may do anything. On (`serve --arm-rbac`, or
`admin arm-rbac on`), every ARM request names one action, derived from its
path and method as Azure Resource Manager does:

  GET    .../providers/{Namespace}/{type}[/{name}[/{subtype}/{name}...]]  -> {Namespace}/{types}/read
  PUT, PATCH                                                            -> .../write
  DELETE                                                                -> .../delete
  POST   .../{name}/{verb}                                              -> {Namespace}/{types}/{verb}/action

so .../vaults/{v}/accessPolicies/add is Microsoft.KeyVault/vaults/accessPolicies/write and
{scope}/providers/Microsoft.Authorization/roleAssignments/{id} is
Microsoft.Authorization/roleAssignments/write|read|delete. Polling the status of a
long-running operation (.../locations/{l}/operationStatuses|operationResults/{id})
is always allowed.

The caller (token `oid`) is allowed when a role assignment of theirs at the
request's scope or any scope above it (resource, vault, resource group,
subscription) grants the action: one of the role definition's `actions`
matches and none of its `notActions` does (wildcards, case-insensitive), as
Azure evaluates role definitions (arm_authz.ROLE_ACTIONS, ROLE_NOT_ACTIONS).
Otherwise 403 AuthorizationFailed with ARM's wording. The scope named is the
resource (or, for a collection such as a list of vaults, the scope the list is
made at); deny assignments and conditions are not emulated.
"""

import fnmatch
import re

from .arm_authz import ROLE_ACTIONS, ROLE_NOT_ACTIONS
from .httpmsg import ServiceError

# Canonical spelling of the namespaces and resource types the emulator serves (actions
# are named this way in role definitions and in Azure's messages); others as sent.
_CANONICAL = {n.lower(): n for n in (
    "Microsoft.KeyVault", "vaults", "accessPolicies", "keys", "Microsoft.CognitiveServices", "accounts",
    "Microsoft.MachineLearningServices", "workspaces", "Microsoft.Authorization", "roleAssignments",
    "roleDefinitions")}
_OPERATION = re.compile(r"/providers/[^/]+/locations/[^/]+/(operationstatuses|operationresults)/[^/]+$", re.I)
_VERBS = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def _canon(segment):
    return _CANONICAL.get(segment.lower(), segment)


def required_action(method: str, path: str):
    """(action, scope) a request needs, or None when it needs none (operation status)."""
    path = "/" + path.strip("/")
    if _OPERATION.search(path):
        return None
    low = path.lower()
    at = low.rfind("/providers/")
    if at < 0:   # /subscriptions/{sub}[/resourceGroups/{rg}] itself
        rtype = "Microsoft.Resources/subscriptions" + ("/resourceGroups" if "/resourcegroups/" in low else "")
        return f"{rtype}/{_VERBS.get(method, 'action')}", path
    parent = path[:at]
    rest = path[at + len("/providers/"):].split("/")
    namespace, segs = _canon(rest[0]), rest[1:]
    types = [_canon(s) for s in segs[0::2]]
    names = segs[1::2]
    if method == "POST" and len(segs) >= 3 and len(segs) % 2 == 1:
        # .../{type}/{name}/{verb}: a resource action
        verb = segs[-1]
        return f"{namespace}/{'/'.join(types[:-1])}/{verb}/action", path[:path.rfind('/')]
    if method == "PUT" and len(types) >= 2 and types[-1] == "accessPolicies":
        # .../vaults/{v}/accessPolicies/{add|replace|remove}: the one accessPolicies/write action
        return f"{namespace}/{'/'.join(types)}/write", path
    action = f"{namespace}/{'/'.join(types)}/{_VERBS.get(method, 'action')}"
    # A collection (.../vaults) is authorized at the scope the list is made at.
    scope = path if len(names) == len(types) else (path[:path.rfind("/")] if names else parent or "/")
    return action, scope


def _matches(action, patterns):
    action = action.lower()
    return any(fnmatch.fnmatchcase(action, p.lower()) for p in patterns)


def role_grants(role_id: str, action: str) -> bool:
    """Whether a role definition's actions minus notActions include `action`."""
    role_id = role_id.lower()
    return _matches(action, ROLE_ACTIONS.get(role_id, [])) and not _matches(action, ROLE_NOT_ACTIONS.get(role_id, []))


def allowed(assignments, oid: str, action: str, scope: str) -> bool:
    """Whether any of `assignments` (every role assignment of the world) lets `oid` do `action` at `scope`."""
    oid, target = (oid or "").lower(), scope.lower().rstrip("/")
    for a in assignments:
        s = a["scope"].lower().rstrip("/")
        if a["principal_id"].lower() != oid or not (target == s or target.startswith(s + "/")):
            continue
        if role_grants(a["role_definition_id"], action):
            return True
    return False


def denied(oid: str, action: str, scope: str) -> ServiceError:
    """ARM's refusal (403 AuthorizationFailed) in its own words."""
    return ServiceError(
        403, "AuthorizationFailed",
        f"The client '{oid}' with object id '{oid}' does not have authorization to perform action "
        f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
        "please refresh your credentials.")
