"""Emulated Azure Resource Manager (management.azure.com): the control-plane calls
an admin CMK utility and the ARM SDKs make.

  Microsoft.KeyVault/vaults                 GET, PUT, PATCH (the emulator's vaults); list per
                                            subscription or resource group
  .../vaults/{v}/accessPolicies/{add|replace|remove}   PUT (same state as the data plane's policies)
  {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]  PUT, GET, DELETE, list
                                            (arm_authz.py; scope: subscription, resource group,
                                            vault, key, account or workspace; feeds Key Vault
                                            RBAC and the caller's control-plane RBAC, arm_rbac.py)
  {scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]     GET, list (built-in roles)
  Microsoft.CognitiveServices/accounts      GET, PUT, PATCH (PATCH is a long-running operation:
                                            202 + Azure-AsyncOperation + Location); CMK rules in
                                            cmkrules.py, the account's data key in foundrykeys.py
  .../locations/{l}/operationResults/{id}   GET (operation status)
  Microsoft.MachineLearningServices/workspaces  GET, PUT, PATCH (arm_ml.py)

Errors use ARM's envelope {"error": {"code", "message"}}. By default any valid ARM
token may do anything; with control-plane RBAC on (`arm_rbac`, see arm_rbac.py)
the caller needs a role assignment granting the request's action.
"""

import base64
import copy
import json
import re
from urllib.parse import unquote

from . import arm_rbac, clouds, cmkrules
from .arm_authz import AuthorizationApi
from .arm_ml import WorkspaceApi
from .foundrykeys import FoundryKeys, KeyInaccessible
from .httpmsg import Response, ServiceError, bad_request, json_response
from .state import StateError, canonical_permissions, vault_resource_id
from .tokens import TokenError
from .util import EPOCH_ISO, new_uuid, now_iso

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

_SUB = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers"
_VAULT = _SUB + r"/microsoft\.keyvault/vaults/(?P<name>[^/]+)"
_VAULT_LIST = r"/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?/providers/microsoft\.keyvault/vaults"
_ACCOUNT = _SUB + r"/microsoft\.cognitiveservices/accounts/(?P<name>[^/]+)"
_WORKSPACE = _SUB + r"/microsoft\.machinelearningservices/workspaces/(?P<name>[^/]+)"
_OPERATION = (r"/subscriptions/(?P<sub>[^/]+)/providers/(?P<provider>[^/]+)/locations/(?P<loc>[^/]+)"
              r"/(?P<what>operationstatuses|operationresults)/(?P<op>[^/]+)")
_AUTHZ = r"(?P<scope>.*?)/providers/microsoft\.authorization/(?P<kind>roleassignments|roledefinitions)(?:/(?P<name>[^/]+))?"

def is_arm_path(path: str) -> bool:
    low = "/" + path.lower().lstrip("/")   # clients that join "/{scope}" with a scope "/subscriptions/..." send "//"
    return low.startswith("/subscriptions/") or low.startswith("/providers/")


def _not_found(rtype, name, rg):
    return ServiceError(404, "ResourceNotFound",
                        f"The Resource '{rtype}/{name}' under resource group '{rg}' was not found. "
                        "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


class ArmService(AuthorizationApi, WorkspaceApi):
    def __init__(self, state, tokens, foundry_keys=None, arm_rbac=False):
        self.arm_rbac = bool(arm_rbac)   # control-plane RBAC of the caller (arm_rbac.py); admin can switch it
        self.state = state
        self.tokens = tokens
        self.foundry_keys = foundry_keys or FoundryKeys(state)
        self.routes = [
            ("GET", _VAULT_LIST, self._list_vaults),
            ("GET", _VAULT, self._get_vault),
            ("PUT", _VAULT, self._put_vault),
            ("PATCH", _VAULT, self._patch_vault),
            ("PUT", _VAULT + r"/accesspolicies/(?P<kind>add|replace|remove)", self._access_policy),
            ("GET", _ACCOUNT, self._get_account),
            ("PUT", _ACCOUNT, self._put_account),
            ("PATCH", _ACCOUNT, self._patch_account),
            ("GET", _WORKSPACE, self._get_workspace),
            ("PUT", _WORKSPACE, self._put_workspace),
            ("PATCH", _WORKSPACE, self._patch_workspace),
            ("GET", _OPERATION, self._get_operation),
        ]

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
        m = re.match("^" + _AUTHZ + "$", path, re.I)
        if m:
            params = {k: unquote(v) if v else v for k, v in m.groupdict().items()}
            return self._authorization(req, claims, **params)
        for method, pattern, handler in self.routes:
            m = re.match("^" + pattern + "$", path, re.I)
            if m and method == req.method:
                return handler(req, claims, self._body(req), **{k: unquote(v) if v else v for k, v in m.groupdict().items()})
        raise ServiceError(404, "NotFound", f"The emulator has no ARM route for {req.method} {req.path}.")

    def _authorize(self, method, path, claims):
        """ARM checks the caller's role assignments before the resource provider sees the request."""
        need = arm_rbac.required_action(method, path)
        if need is None:
            return
        action, scope = need
        oid = str(claims.get("oid") or "")
        if not arm_rbac.allowed([a for _, a in self._all_assignments()], oid, action, scope):
            raise arm_rbac.denied(oid, action, scope)

    @staticmethod
    def _body(req):
        if not req.body:
            return {}
        try:
            body = json.loads(req.body)
        except ValueError:
            raise bad_request("InvalidRequestContent",
                              "The request content was invalid and could not be deserialized.") from None
        if not isinstance(body, dict):
            raise bad_request("InvalidRequestContent", "The request content must be a JSON object.")
        return body

    # ---- Key Vault ----------------------------------------------------------------

    def _find_vault(self, sub, rg, name):
        vault = self.state.get_vault(name)
        if (vault is None or vault["kind"] != "vault" or vault["subscription_id"].lower() != sub.lower()
                or vault["resource_group"].lower() != rg.lower()):
            raise _not_found("Microsoft.KeyVault/vaults", name, rg)
        return vault

    def _policies(self, vault):
        out = []
        for oid, perms in vault["access_policies"].items():
            entry = {"tenantId": perms.get("tenant_id", vault["tenant_id"]), "objectId": oid,
                     "permissions": {"keys": list(perms.get("keys", [])),
                                     "secrets": list(perms.get("secrets", [])),
                                     "certificates": list(perms.get("certificates", []))}}
            if perms.get("storage"):
                entry["permissions"]["storage"] = list(perms["storage"])
            if perms.get("application_id"):
                entry["applicationId"] = perms["application_id"]
            out.append(entry)
        return out

    def _vault_json(self, vault, req):
        """A vault as Resource Manager shows it; vaultUri names the vault host of the cloud
        whose Resource Manager was asked (clouds.py: vault.azure.cn in Azure China)."""
        cloud = clouds.ARM_HOSTS.get((req.hostname or "").lower(), clouds.PUBLIC)
        acls = vault.get("network_acls") or {"bypass": "AzureServices", "defaultAction": "Allow"}
        props = {
            "sku": {"family": "A", "name": vault.get("sku", "premium")},
            "tenantId": vault["tenant_id"],
            "accessPolicies": self._policies(vault),
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
            "enableSoftDelete": vault["soft_delete"],
            "softDeleteRetentionInDays": vault["retention_days"],
            "enableRbacAuthorization": vault["enable_rbac_authorization"],
            "vaultUri": f"https://{vault['name']}.{cloud['vault']}/",
            "provisioningState": "Succeeded",
            "publicNetworkAccess": vault.get("public_network_access", "Enabled"),
            "networkAcls": {"bypass": acls.get("bypass", "AzureServices"),
                            "defaultAction": acls.get("defaultAction", "Allow"),
                            "ipRules": acls.get("ipRules", []),
                            "virtualNetworkRules": acls.get("virtualNetworkRules", [])},
        }
        # Azure omits enablePurgeProtection until it has been turned on.
        if vault["purge_protection"]:
            props["enablePurgeProtection"] = True
        return {"id": vault_resource_id(vault), "name": vault["name"], "type": "Microsoft.KeyVault/vaults",
                "location": vault["location"], "tags": vault.get("tags", {}),
                "systemData": {"createdAt": vault.get("created_at", EPOCH_ISO), "lastModifiedAt": now_iso()},
                "properties": props}

    def _get_vault(self, req, claims, body, sub, rg, name):
        return json_response(200, self._vault_json(self._find_vault(sub, rg, name), req))

    def _apply_vault_props(self, vault, props):
        if "enablePurgeProtection" in props and props["enablePurgeProtection"] is not None:
            if vault["purge_protection"] and not props["enablePurgeProtection"]:
                raise bad_request("BadRequest", 'The property "enablePurgeProtection" cannot be set to false. Enabling '
                                                'the purge protection for a vault is an irreversible action.')
            vault["purge_protection"] = bool(props["enablePurgeProtection"])
        if props.get("enableSoftDelete") is False:
            if vault["soft_delete"]:
                raise bad_request("BadRequest", 'The property "enableSoftDelete" cannot be set to false. Enabling the '
                                                'soft delete for a vault is an irreversible action.')
        elif props.get("enableSoftDelete") is True:
            vault["soft_delete"] = True
        if props.get("softDeleteRetentionInDays") is not None:
            days = props["softDeleteRetentionInDays"]
            if not isinstance(days, int) or not 7 <= days <= 90:
                raise bad_request("BadRequest", "The property softDeleteRetentionInDays must be between 7 and 90.")
            vault["retention_days"] = days
        if props.get("enableRbacAuthorization") is not None:
            vault["enable_rbac_authorization"] = bool(props["enableRbacAuthorization"])
        if props.get("networkAcls") is not None:
            acls = dict(vault.get("network_acls") or {"bypass": "AzureServices", "defaultAction": "Allow"})
            for k in ("bypass", "defaultAction", "ipRules", "virtualNetworkRules"):
                if k in props["networkAcls"]:
                    acls[k] = props["networkAcls"][k]
            vault["network_acls"] = acls
        if props.get("publicNetworkAccess"):
            vault["public_network_access"] = props["publicNetworkAccess"]
        if props.get("sku", {}).get("name"):
            vault["sku"] = props["sku"]["name"]
        if props.get("accessPolicies") is not None:
            vault["access_policies"] = {}
            self._merge_policies(vault, props["accessPolicies"], "replace")

    def _put_vault(self, req, claims, body, sub, rg, name):
        props = body.get("properties") or {}
        if not body.get("location"):
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        if not props.get("tenantId") or not (props.get("sku") or {}).get("name"):
            raise bad_request("BadRequest", "The properties tenantId and sku are required.")
        vault = self.state.get_vault(name)
        status = 200
        if vault is None:
            vault = self.state.add_vault(name, tenant=props["tenantId"], location=body["location"],
                                         soft_delete=props.get("enableSoftDelete", True) is not False,
                                         retention_days=props.get("softDeleteRetentionInDays") or 90,
                                         purge_protection=bool(props.get("enablePurgeProtection")),
                                         rbac=bool(props.get("enableRbacAuthorization")),
                                         subscription_id=sub, resource_group=rg)
            vault["created_at"] = now_iso()
            # A new vault takes the body's policies; the add_vault defaults cover the rest.
            props = {k: v for k, v in props.items() if k in ("accessPolicies", "networkAcls", "sku",
                                                                  "publicNetworkAccess")}
        else:
            vault = self._find_vault(sub, rg, name)
            if body["location"].replace(" ", "").lower() != vault["location"].lower():
                raise bad_request("InvalidResourceLocation",
                                  f"The resource '{name}' already exists in location '{vault['location']}' in resource "
                                  f"group '{rg}'. A resource with the same name cannot be created in location "
                                  f"'{body['location']}'. Please select a new resource name.")
            if props.get("accessPolicies") is None:
                props = dict(props, accessPolicies=[])   # PUT replaces: no policies in the body, none after
        self._apply_vault_props(vault, props)
        if "tags" in body:
            vault["tags"] = body.get("tags") or {}
        self.state.save()
        return json_response(status, self._vault_json(vault, req))

    def _list_vaults(self, req, claims, body, sub, rg=None):
        """GET .../providers/Microsoft.KeyVault/vaults in a subscription or resource group."""
        out = sorted((v for v in self.state.doc["vaults"].values()
                      if v["kind"] == "vault" and v["subscription_id"].lower() == sub.lower()
                      and (rg is None or v["resource_group"].lower() == rg.lower())),
                     key=lambda v: v["name"].lower())
        # $top pages; the nextLink carries $skiptoken = base64 of the next vault's name (as the
        # service's example shows) and no $top, so the next page holds the rest.
        skip = req.query.get("$skiptoken") if req else None
        if skip:
            try:
                start = base64.b64decode(skip.replace(" ", "+")).decode().lower()
            except (ValueError, UnicodeDecodeError):
                raise bad_request("InvalidSkipToken", "The skip token is not valid.") from None
            out = [v for v in out if v["name"].lower() >= start]
        top = req.query.get("$top") if req else None
        body = {"value": [self._vault_json(v, req) for v in out]}
        if top:
            if not top.isdigit() or int(top) < 1:
                raise bad_request("InvalidTopParameter", f"The value '{top}' of $top is not valid.")
            if len(out) > int(top):
                nxt = base64.b64encode(out[int(top)]["name"].encode()).decode()
                body = {"value": body["value"][:int(top)],
                        "nextLink": f"https://{req.host_header or 'management.azure.com'}{req.path}"
                                    f"?api-version={req.query.get('api-version')}&$skiptoken={nxt}"}
        return json_response(200, body)

    def _patch_vault(self, req, claims, body, sub, rg, name):
        vault = self._find_vault(sub, rg, name)
        self._apply_vault_props(vault, body.get("properties") or {})
        if "tags" in body:
            vault["tags"] = body.get("tags") or {}
        self.state.save()
        return json_response(200, self._vault_json(vault, req))

    def _merge_policies(self, vault, policies, kind):
        if not isinstance(policies, list):
            raise bad_request("BadRequest", "properties.accessPolicies must be an array.")
        for pol in policies:
            oid = str(pol.get("objectId") or "").lower()
            if not oid or not pol.get("tenantId"):
                raise bad_request("BadRequest", "An access policy needs tenantId and objectId.")
            perms = pol.get("permissions") or {}
            try:
                keys = canonical_permissions(perms.get("keys") or [])
            except StateError as err:
                raise bad_request("BadRequest", str(err)) from None
            current = vault["access_policies"].get(oid)
            new = {k: list(v) for k, v in (current or {}).items() if isinstance(v, list)}
            groups = {"keys": keys}
            for g in ("secrets", "certificates", "storage"):
                groups[g] = [str(p) for p in perms.get(g) or []]
            for g, values in groups.items():
                have = new.get(g, [])
                if kind == "add":
                    have = have + [p for p in values if p.lower() not in {h.lower() for h in have}]
                elif kind == "remove":
                    have = [p for p in have if p.lower() not in {v.lower() for v in values}]
                else:
                    have = list(values)
                new[g] = have
            new["tenant_id"] = pol["tenantId"]
            if pol.get("applicationId"):
                new["application_id"] = pol["applicationId"]
            if any(new.get(g) for g in ("keys", "secrets", "certificates", "storage")):
                vault["access_policies"][oid] = {k: v for k, v in new.items() if v or k == "keys"}
            else:
                vault["access_policies"].pop(oid, None)

    def _access_policy(self, req, claims, body, sub, rg, name, kind):
        vault = self._find_vault(sub, rg, name)
        policies = (body.get("properties") or {}).get("accessPolicies")
        self._merge_policies(vault, policies if policies is not None else [], kind.lower())
        self.state.save()
        return json_response(200, {
            "id": vault_resource_id(vault) + "/accessPolicies/",
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "location": vault["location"],
            "properties": {"accessPolicies": (body.get("properties") or {}).get("accessPolicies") or []}})

    # ---- Cognitive Services accounts ------------------------------------------------

    def _accounts(self):
        return self.state.doc.setdefault("accounts", {})

    def _find(self, table, rtype, sub, rg, name):
        rec = table.get(name.lower())
        if rec is None or rec["subscription_id"].lower() != sub.lower() or rec["resource_group"].lower() != rg.lower():
            raise _not_found(rtype, name, rg)
        return rec

    def _identity_json(self, rec):
        ident = rec.get("identity")
        if not ident:
            return None
        out = {"type": ident["type"]}
        if ident.get("principal_id"):
            out["principalId"] = ident["principal_id"]
            out["tenantId"] = ident["tenant_id"]
        if ident.get("user_assigned"):
            out["userAssignedIdentities"] = {rid: {"principalId": v["principal_id"], "clientId": v["client_id"]}
                                             for rid, v in ident["user_assigned"].items()}
        return out

    def _set_identity(self, rec, identity, tenant_id):
        """Apply an identity block; a system-assigned identity gets a managed-identity principal."""
        if identity is None:
            return
        itype = identity.get("type") or "None"
        types = {t.strip().lower() for t in itype.split(",")}
        cur = rec.get("identity") or {}
        new = {"type": itype}
        if "systemassigned" in types:
            if cur.get("principal_id"):
                new.update(principal_id=cur["principal_id"], tenant_id=cur["tenant_id"],
                           client_id=cur.get("client_id"))
            else:
                mi = self.state.add_identity(rec["name"], tenant=tenant_id, kind="managed")
                new.update(principal_id=mi["object_id"], tenant_id=mi["tenant_id"], client_id=mi["client_id"])
        if "userassigned" in types:
            ua = {}
            for rid in (identity.get("userAssignedIdentities") or {}):
                uname = rid.rstrip("/").split("/")[-1]
                mi = self.state.find_identity(uname)
                if mi is None:
                    mi = self.state.add_identity(uname, tenant=tenant_id, kind="managed")
                ua[rid] = {"principal_id": mi["object_id"], "client_id": mi["client_id"]}
            new["user_assigned"] = ua
        rec["identity"] = new if types != {"none"} else None

    def _account_json(self, rec, provisioning="Succeeded"):
        props = {"provisioningState": provisioning,
                 "endpoint": f"https://{rec['custom_subdomain'] or rec['name']}.cognitiveservices.azure.com/",
                 "internalId": rec["internal_id"], "dateCreated": rec["created_at"],
                 "customSubDomainName": rec["custom_subdomain"],
                 "publicNetworkAccess": rec.get("public_network_access", "Enabled")}
        if rec.get("encryption"):
            props["encryption"] = rec["encryption"]
        out = {"id": (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                      f"/providers/Microsoft.CognitiveServices/accounts/{rec['name']}"),
               "name": rec["name"], "type": "Microsoft.CognitiveServices/accounts",
               "etag": rec["etag"], "location": rec["location"], "kind": rec["kind"],
               "sku": rec["sku"], "tags": rec.get("tags", {}), "properties": props,
               "systemData": {"createdAt": rec["created_at"], "lastModifiedAt": now_iso()}}
        ident = self._identity_json(rec)
        if ident:
            out["identity"] = ident
        return out

    def _check_encryption(self, rec, enc):
        """Foundry CMK rules (cmkrules.py), all checked before anything changes."""
        if enc is None:
            return None
        source = enc.get("keySource")
        if source not in ("Microsoft.KeyVault", "Microsoft.CognitiveServices"):
            raise bad_request("InvalidKeySource", f"The keySource '{source}' is not valid. Valid values are "
                                                  "'Microsoft.CognitiveServices' and 'Microsoft.KeyVault'.")
        current = rec.get("encryption") or {}
        if current.get("keySource") == "Microsoft.KeyVault" and source == "Microsoft.CognitiveServices":
            # Wording is the emulator's: Azure refuses reverting CMK to Microsoft-managed keys.
            raise bad_request("CustomerManagedKeyCannotBeReverted",
                              "Encryption with a customer-managed key cannot be changed back to Microsoft-managed keys "
                              "(keySource Microsoft.CognitiveServices) once enabled.")
        if source == "Microsoft.CognitiveServices":
            return {"keySource": source}
        kvp = enc.get("keyVaultProperties") or {}
        if not kvp.get("keyName") or not kvp.get("keyVaultUri"):
            raise bad_request("InvalidKeyVaultProperties",
                              "keyVaultProperties.keyName and keyVaultProperties.keyVaultUri are required "
                              "when keySource is Microsoft.KeyVault.")
        m = re.match(r"^https://([^./]+)\.vault\.azure\.net/?$", kvp["keyVaultUri"], re.I)
        vault = self.state.get_vault(m.group(1)) if m else None
        if vault is None:
            raise bad_request("KeyVaultNotFound", f"The key vault '{kvp['keyVaultUri']}' was not found.")
        bound = (current.get("keyVaultProperties") or {}).get("keyVaultUri")
        if current.get("keySource") == "Microsoft.KeyVault" and bound:
            cmkrules.check_same_vault(bound.split("//", 1)[-1].split(".", 1)[0], vault["name"])
        ident = cmkrules.resolve_identity(self.state, rec.get("identity"), kvp.get("identityClientId"))
        cmkrules.check_vault(vault, rec["location"], ident)
        cmkrules.check_key(vault, kvp["keyName"], kvp.get("keyVersion"))
        cmkrules.check_grant(self.state, vault, ident, kvp["keyName"])
        out = {"keyName": kvp["keyName"], "keyVaultUri": kvp["keyVaultUri"]}
        if kvp.get("keyVersion"):
            out["keyVersion"] = kvp["keyVersion"]
        if kvp.get("identityClientId"):
            out["identityClientId"] = kvp["identityClientId"]
        return {"keySource": source, "keyVaultProperties": out}

    def _put_account(self, req, claims, body, sub, rg, name):
        table = self._accounts()
        if not body.get("location"):
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        rec = table.get(name.lower())
        created = rec is None
        if created:
            rec = {"name": name, "subscription_id": sub, "resource_group": rg,
                   "location": body["location"], "kind": body.get("kind") or "AIServices",
                   "sku": body.get("sku") or {"name": "S0"}, "tags": {}, "internal_id": new_uuid().replace("-", ""),
                   "created_at": now_iso(), "custom_subdomain": None, "encryption": None, "identity": None}
        else:
            rec = self._find(table, "Microsoft.CognitiveServices/accounts", sub, rg, name)
        rec = self._update_account(rec, body, claims)
        table[name.lower()] = rec
        self.state.save()
        return json_response(201 if created else 200, self._account_json(rec))

    def _update_account(self, rec, body, claims):
        """The account as it will be after the request, or an error with the account unchanged
        and no managed identity left behind."""
        identities = copy.deepcopy(self.state.doc["identities"])
        try:
            return self._updated_account(rec, body, claims)
        except (ServiceError, StateError):
            if self.state.doc["identities"] != identities:
                self.state.doc["identities"] = identities
                self.state.save()
            raise

    def _updated_account(self, rec, body, claims):
        rec = copy.deepcopy(rec)
        props = body.get("properties") or {}
        if "identity" in body:
            self._set_identity(rec, body["identity"], claims.get("tid"))
        if "encryption" in props:
            rec["encryption"] = self._check_encryption(rec, props["encryption"])
            try:
                # The service wraps the account's data key with the key version now bound.
                self.foundry_keys.ensure_current(rec)
            except KeyInaccessible as err:
                raise bad_request("KeyVaultAccessForbidden", f"The account cannot wrap its data key with the key: "
                                                             f"{err.reason}: {err.message}") from None
        if props.get("customSubDomainName"):
            rec["custom_subdomain"] = props["customSubDomainName"]
        if props.get("publicNetworkAccess"):
            rec["public_network_access"] = props["publicNetworkAccess"]
        if body.get("sku"):
            rec["sku"] = body["sku"]
        if "tags" in body:
            rec["tags"] = body.get("tags") or {}
        # The service's etag form: W/"datetime'2017-04-10T07%3A46%3A21.5618831Z'"
        rec["etag"] = "W/\"datetime'" + now_iso().replace(":", "%3A") + "'\""
        return rec

    def _get_account(self, req, claims, body, sub, rg, name):
        return json_response(200, self._account_json(
            self._find(self._accounts(), "Microsoft.CognitiveServices/accounts", sub, rg, name)))

    def _patch_account(self, req, claims, body, sub, rg, name):
        rec = self._find(self._accounts(), "Microsoft.CognitiveServices/accounts", sub, rg, name)
        rec = self._update_account(rec, body, claims)
        self._accounts()[name.lower()] = rec
        op = new_uuid()
        # The change is applied at once; the operation is already done when first polled.
        self.state.doc.setdefault("operations", {})[op] = {"status": "Succeeded", "start": now_iso(),
                                                           "account": name.lower()}
        self.state.save()
        base = f"https://{req.host_header or 'management.azure.com'}"
        api = req.query.get("api-version")
        loc = rec["location"].replace(" ", "").lower()
        prefix = f"{base}/subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{loc}"
        # Azure-AsyncOperation: the status to poll; Location: the result (the account) once done.
        return json_response(202, self._account_json(rec, provisioning="Accepted"), headers=[
            ("Azure-AsyncOperation", f"{prefix}/operationStatuses/{op}?api-version={api}"),
            ("Location", f"{prefix}/operationResults/{op}?api-version={api}"),
            ("Retry-After", "1")])

    def _get_operation(self, req, claims, body, sub, provider, loc, what, op):
        rec = self.state.doc.get("operations", {}).get(op.lower())
        if rec is None:
            raise ServiceError(404, "NotFound", f"The operation '{op}' was not found.")
        if what.lower() == "operationresults":
            account = self._accounts().get(rec.get("account", ""))
            if account is None:
                return Response(204)
            return json_response(200, self._account_json(account))
        return json_response(200, {"id": req.path, "name": op, "status": rec["status"],
                                   "startTime": rec["start"], "endTime": rec["start"]})

    # ---- admin API helpers (bypass ARM authentication) ----------------------------

    def admin_put(self, kind, body, tenant_id=None):
        """Create or update an account/workspace as an ARM PUT would; returns the ARM JSON."""
        sub = body.pop("subscription_id", None) or DEFAULT_SUBSCRIPTION
        rg = body.pop("resource_group", None) or "rg-emulator"
        name = body.pop("name")
        handler = self._put_account if kind == "account" else self._put_workspace
        with self.state.lock:
            resp = handler(None, {"tid": tenant_id}, body, sub, rg, name)
        return json.loads(resp.body)

    def admin_list(self, kind):
        with self.state.lock:
            if kind == "account":
                return {"value": [self._account_json(r) for r in self._accounts().values()]}
            return {"value": [self._workspace_json(r) for r in self._workspaces().values()]}
