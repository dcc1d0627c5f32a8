"""Microsoft.Authorization on the emulated ARM: role assignments and built-in role definitions.

  {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]  PUT, GET, DELETE, list
  {scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]     GET, list

Scopes: a subscription (/subscriptions/{sub}), a resource group
(/subscriptions/{sub}/resourceGroups/{rg}), a Key Vault vault, or a key in it,
a Cognitive Services account or an ML workspace. Vault and key assignments are
kept in the vault; the others in State.scope_role_assignments(). An assignment applies to its scope and
everything below it, so the data plane (authz.check) honours both kinds. The
id of an assignment is `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`,
so a DELETE by full id is a DELETE at its scope.
"""

import re
from urllib.parse import unquote

from . import authz
from .arm_resources import ACCOUNTS, WORKSPACES, accounts, find_resource, find_vault, parse_body, workspaces
from .httpmsg import Response, ServiceError, json_response
from .util import EPOCH_ISO, is_guid, new_uuid, now_iso

_SUB_SCOPE = r"^/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?$"
_RESOURCE_SCOPE = (r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/(?P<rtype>"
                   r"microsoft\.cognitiveservices/accounts|microsoft\.machinelearningservices/workspaces)"
                   r"/(?P<name>[^/]+)$")
_VAULT_SCOPE = (r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers"
                r"/microsoft\.keyvault/vaults/(?P<name>[^/]+)(?:/keys/(?P<key>[^/]+))?$")

_KV_READ = [
    "Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read"]
# Control-plane actions of the built-in roles (data actions are in authz.BUILTIN_ROLES).
ROLE_ACTIONS = {
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": _KV_READ,
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": _KV_READ,
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": [
        "Microsoft.EventGrid/eventSubscriptions/write", "Microsoft.EventGrid/eventSubscriptions/read",
        "Microsoft.EventGrid/eventSubscriptions/delete"],
    "21090545-7ca7-4776-b22c-e363652d74d2": _KV_READ,
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ["*"],
    "b24988ac-6180-42a0-ab88-20f7382dd24c": ["*"],
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": ["*/read"],
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
    # Key Vault Contributor: manages vaults (access policies included), not their data.
    "f25e0fa2-a7c8-4377-a976-54943a77a395": [
        "Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.KeyVault/*",
        "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
        "Microsoft.Support/*"],
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": [
        "Microsoft.Authorization/*/read", "Microsoft.CognitiveServices/*", "Microsoft.Features/features/read",
        "Microsoft.Features/providers/features/read", "Microsoft.Features/providers/features/register/action",
        "Microsoft.Insights/alertRules/*", "Microsoft.Insights/diagnosticSettings/*",
        "Microsoft.Insights/logDefinitions/read", "Microsoft.Insights/metricdefinitions/read",
        "Microsoft.Insights/metrics/read", "Microsoft.ResourceHealth/availabilityStatuses/read",
        "Microsoft.Resources/deployments/*", "Microsoft.Resources/deployments/operations/read",
        "Microsoft.Resources/subscriptions/operationresults/read", "Microsoft.Resources/subscriptions/read",
        "Microsoft.Resources/subscriptions/resourcegroups/deployments/*",
        "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"],
}
ROLE_NOT_ACTIONS = {
    # Contributor may manage everything but access (role assignments) itself.
    "b24988ac-6180-42a0-ab88-20f7382dd24c": [
        "Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
        "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
        "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete"],
    "f25e0fa2-a7c8-4377-a976-54943a77a395": [
        "Microsoft.KeyVault/locations/deletedVaults/purge/action", "Microsoft.KeyVault/hsmPools/*",
        "Microsoft.KeyVault/managedHsms/*"],
}
ROLE_DESCRIPTIONS = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Grants full access to manage all resources, including the ability "
                                            "to assign roles in Azure RBAC.",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Grants full access to manage all resources, but does not allow you "
                                            "to assign roles in Azure RBAC, manage assignments in Azure "
                                            "Blueprints, or share image galleries.",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "View all resources, but does not allow you to make any changes.",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "Lets you manage user access to Azure resources.",
    "f25e0fa2-a7c8-4377-a976-54943a77a395": "Lets you manage key vaults, but not access to them.",
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": "Lets you create, read, update, delete and manage keys of "
                                            "Cognitive Services.",
}


def _sub_of(scope):
    m = re.match(r"^/subscriptions/([^/]+)", scope or "", re.I)
    return m.group(1) if m else None


class AuthorizationApi:
    def __init__(self, state):
        self.state = state

    def _scope_container(self, scope):
        """(list holding the assignments of `scope`, normalised scope, tenant id) for a
        subscription, resource-group, vault or key scope."""
        m = re.match(_SUB_SCOPE, scope, re.I)
        if m:
            norm = f"/subscriptions/{m.group('sub')}"
            if m.group("rg"):
                norm += f"/resourceGroups/{unquote(m.group('rg'))}"
            return self.state.scope_role_assignments(), norm, self.state.default_tenant()["id"]
        m = re.match(_RESOURCE_SCOPE, scope, re.I)
        if m:
            # an account or workspace (for control-plane RBAC, arm_rbac.py); kept with the scope ones
            is_account = m.group("rtype").lower().startswith("microsoft.cognitiveservices")
            table = accounts(self.state) if is_account else workspaces(self.state)
            rtype = ACCOUNTS if is_account else WORKSPACES
            rec = find_resource(table, rtype, m.group("sub"), unquote(m.group("rg")), unquote(m.group("name")))
            norm = (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                    f"/providers/{rtype}/{rec['name']}")
            return self.state.scope_role_assignments(), norm, self.state.default_tenant()["id"]
        m = re.match(_VAULT_SCOPE, scope, re.I)
        if not m:
            raise ServiceError(400, "InvalidScope" if scope else "MissingSubscription",
                               "The emulator serves role assignments at subscription, resource group, Key Vault "
                               f"vault or key, Cognitive Services account or ML workspace scope only, not '{scope}'.")
        vault = find_vault(self.state, m.group("sub"), m.group("rg"), unquote(m.group("name")))
        norm = authz.key_scope(vault, unquote(m.group("key")) if m.group("key") else None)
        return vault["role_assignments"], norm, vault["tenant_id"]

    def all_assignments(self):
        for vault in self.state.doc["vaults"].values():
            for a in vault.get("role_assignments", []):
                yield vault["role_assignments"], a
        for a in self.state.scope_role_assignments():
            yield self.state.scope_role_assignments(), a

    @staticmethod
    def _role_def_id(sub, role_id):
        if not sub:
            return f"/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
        return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"

    def _assignment_json(self, a):
        return {"id": f"{a['scope']}/providers/Microsoft.Authorization/roleAssignments/{a['id']}",
                "type": "Microsoft.Authorization/roleAssignments", "name": a["id"],
                "properties": {"roleDefinitionId": self._role_def_id(_sub_of(a["scope"]), a["role_definition_id"]),
                               "principalId": a["principal_id"],
                               "principalType": a.get("principal_type", "ServicePrincipal"),
                               "scope": a["scope"], "condition": a.get("condition"),
                               "conditionVersion": a.get("condition_version"),
                               "createdOn": a.get("created_on", EPOCH_ISO), "updatedOn": a.get("created_on", EPOCH_ISO),
                               "createdBy": a.get("created_by"), "updatedBy": a.get("created_by"),
                               "delegatedManagedIdentityResourceId": None, "description": a.get("description")}}

    def _role_json(self, sub, role_id):
        name, data_actions = authz.BUILTIN_ROLES[role_id]
        return {"id": self._role_def_id(sub, role_id),
                "name": role_id, "type": "Microsoft.Authorization/roleDefinitions",
                "properties": {"roleName": name, "type": "BuiltInRole",
                               "description": ROLE_DESCRIPTIONS.get(role_id, name),
                               "assignableScopes": ["/"],
                               "permissions": [{"actions": list(ROLE_ACTIONS.get(role_id, [])),
                                                "notActions": list(ROLE_NOT_ACTIONS.get(role_id, [])),
                                                "dataActions": list(data_actions), "notDataActions": []}],
                               "createdOn": EPOCH_ISO, "updatedOn": EPOCH_ISO, "createdBy": None, "updatedBy": None}}

    def handle(self, req, claims, scope, kind, name):
        """Every method at {scope}/providers/Microsoft.Authorization/{kind}[/{name}]; the PUT of
        a role assignment reads its body once the scope is known."""
        scope = "/" + scope.strip("/") if scope.strip("/") else ""
        if kind.lower() == "roledefinitions":
            return self._role_definitions(req, scope, name)
        if name is None:
            if req.method != "GET":
                raise ServiceError(405, "MethodNotAllowed", "The list of role assignments is read-only.")
            return self._list_assignments(req, scope)
        container, norm, tenant_id = self._scope_container(scope)
        found = [a for a in container if a["id"].lower() == name.lower() and a["scope"].lower() == norm.lower()]
        if req.method == "GET":
            if not found:
                raise ServiceError(404, "RoleAssignmentNotFound", "The role assignment '%s' is not found." % name)
            return json_response(200, self._assignment_json(found[0]))
        if req.method == "DELETE":
            if not found:
                return Response(204)
            container.remove(found[0])
            self.state.save()
            return json_response(200, self._assignment_json(found[0]))
        if req.method != "PUT":
            raise ServiceError(405, "MethodNotAllowed", f"{req.method} is not allowed here.")
        return self._put_assignment(req, claims, container, norm, tenant_id, name)

    def _role_definitions(self, req, scope, name):
        sub = _sub_of(scope)
        if req.method != "GET":
            raise ServiceError(405, "MethodNotAllowed", "Only built-in role definitions are emulated.")
        if name:
            role = authz.find_role(name)
            if role is None:
                raise ServiceError(404, "RoleDefinitionDoesNotExist",
                                   f"The specified role definition with ID '{name}' does not exist.")
            return json_response(200, self._role_json(sub, role))
        flt = req.query.get("$filter") or ""
        fm = re.match(r"^\s*roleName\s+eq\s+'(.*)'\s*$", flt, re.I)
        roles = [r for r in authz.BUILTIN_ROLES
                 if not fm or authz.BUILTIN_ROLES[r][0].lower() == fm.group(1).lower()]
        return json_response(200, {"value": [self._role_json(sub, r) for r in roles]})

    def _put_assignment(self, req, claims, container, norm, tenant_id, name):
        props = parse_body(req).get("properties") or {}
        role = authz.find_role(props.get("roleDefinitionId") or "")
        if role is None:
            raise ServiceError(400, "RoleDefinitionDoesNotExist",
                               f"The specified role definition with ID "
                               f"'{props.get('roleDefinitionId', '').split('/')[-1]}' does not exist.")
        principal = str(props.get("principalId") or "").lower()
        ident = self.state.find_identity(principal)
        if not principal or ident is None or ident["object_id"] != principal:
            raise ServiceError(
                400, "PrincipalNotFound",
                f"Principal {principal.replace('-', '')} does not exist in the directory "
                f"{tenant_id}. Check that you have the correct principal ID. If you are creating "
                "this principal and then immediately assigning a role, this error might be related to a "
                "replication delay. In this case, set the role assignment principalType property to a value, "
                "such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype")
        if not is_guid(name):
            raise ServiceError(400, "InvalidRoleAssignmentId",
                               f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
        wanted = (principal, role, norm.lower())
        for _, a in self.all_assignments():
            if a["id"].lower() != name.lower():
                continue
            if (a["principal_id"], a["role_definition_id"], a["scope"].lower()) != wanted:
                raise ServiceError(400, "RoleAssignmentUpdateNotPermitted",
                                   "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
            return json_response(201, self._assignment_json(a))
        for a in container:
            if (a["principal_id"], a["role_definition_id"], a["scope"].lower()) == wanted:
                raise ServiceError(409, "RoleAssignmentExists", "The role assignment already exists.")
        a = {"id": name.lower(), "principal_id": principal, "role_definition_id": role, "scope": norm,
             "principal_type": props.get("principalType") or "ServicePrincipal",
             "created_on": now_iso(), "created_by": claims.get("oid"), "description": props.get("description")}
        if props.get("condition"):
            # Kept and shown as Azure does (2022-04-01: condition, conditionVersion "2.0"); the
            # emulator does not evaluate ABAC conditions: a conditional assignment grants its role whole.
            a["condition"], a["condition_version"] = props["condition"], props.get("conditionVersion") or "2.0"
        container.append(a)
        self.state.save()
        return json_response(201, self._assignment_json(a))

    def _list_assignments(self, req, scope):
        """At the scope and above (inherited) always; below too unless $filter=atScope()."""
        flt = (req.query.get("$filter") or "").strip()
        at_scope = flt.lower() == "atscope()"
        pm = re.match(r"^(?:assignedTo|principalId\s+eq)\s*\(?\s*'([^']*)'\s*\)?$", flt, re.I)
        if flt and not at_scope and not pm:
            raise ServiceError(400, "UnsupportedQuery", f"The filter '{flt}' is not supported.")
        scope_l = scope.lower().rstrip("/")
        out = []
        for _, a in self.all_assignments():
            s = a["scope"].lower()
            above = scope_l == s or scope_l.startswith(s + "/")
            below = s.startswith(scope_l + "/")
            if not (above or (below and not at_scope)):
                continue
            if pm and a["principal_id"] != pm.group(1).lower():
                continue
            out.append(self._assignment_json(a))
        return json_response(200, {"value": out})

    # ---- admin API helper (bypasses ARM authentication and authorization) ----------

    def admin_assign(self, scope, principal_ref, role_ref):
        """A role assignment at any scope the ARM PUT accepts; returns its ARM JSON."""
        role = authz.find_role(role_ref or "")
        if role is None:
            known = ", ".join(name for name, _ in authz.BUILTIN_ROLES.values())
            raise ServiceError(400, "RoleDefinitionDoesNotExist", f"unknown role '{role_ref}'; built-in roles: {known}")
        ident = self.state.find_identity(principal_ref or "")
        if ident is None:
            raise ServiceError(404, "PrincipalNotFound", f"unknown identity '{principal_ref}'")
        with self.state.lock:
            container, norm, _ = self._scope_container("/" + (scope or "").strip("/"))
            for a in container:
                if (a["principal_id"], a["role_definition_id"], a["scope"].lower()) == \
                        (ident["object_id"], role, norm.lower()):
                    return self._assignment_json(a)
            a = {"id": new_uuid(), "principal_id": ident["object_id"], "role_definition_id": role, "scope": norm,
                 "principal_type": "ServicePrincipal", "created_on": now_iso(), "created_by": None,
                 "description": None}
            container.append(a)
            self.state.save()
            return self._assignment_json(a)
