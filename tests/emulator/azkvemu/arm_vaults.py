"""Microsoft.KeyVault/vaults on the emulated ARM: the emulator's vaults as Resource Manager
shows them, and their access policies (the same state as the data plane's policies).

  GET, PUT, PATCH .../vaults/{v}; GET .../vaults in a subscription or resource group
  PUT .../vaults/{v}/accessPolicies/{add|replace|remove}
"""

import base64

from . import clouds
from .arm_private_link import connection_items, refuse_or_recover
from .arm_resources import find_vault
from .httpmsg import bad_request, json_response
from .state import StateError, canonical_permissions, vault_resource_id
from .util import EPOCH_ISO, now_iso


class VaultApi:
    def __init__(self, state):
        self.state = state

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
            "privateEndpointConnections": connection_items(vault),
        }
        # Azure omits enablePurgeProtection until it has been turned on.
        if vault["purge_protection"]:
            props["enablePurgeProtection"] = True
        return {"id": vault_resource_id(vault), "name": vault["name"], "type": "Microsoft.KeyVault/vaults",
                "location": vault["location"], "tags": vault.get("tags", {}),
                "systemData": {"createdAt": vault.get("created_at", EPOCH_ISO), "lastModifiedAt": now_iso()},
                "properties": props}

    def get_vault(self, req, claims, body, sub, rg, name):
        return json_response(200, self._vault_json(find_vault(self.state, sub, rg, name), req))

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

    def put_vault(self, req, claims, body, sub, rg, name):
        props = body.get("properties") or {}
        if not body.get("location"):
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        if not props.get("tenantId") or not (props.get("sku") or {}).get("name"):
            raise bad_request("BadRequest", "The properties tenantId and sku are required.")
        vault = self.state.get_vault(name) or refuse_or_recover(self.state, name, props)
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
            vault = find_vault(self.state, sub, rg, name)
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

    def list_vaults(self, req, claims, body, sub, rg=None):
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

    def patch_vault(self, req, claims, body, sub, rg, name):
        vault = find_vault(self.state, sub, rg, name)
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

    def access_policy(self, req, claims, body, sub, rg, name, kind):
        vault = find_vault(self.state, sub, rg, name)
        policies = (body.get("properties") or {}).get("accessPolicies")
        self._merge_policies(vault, policies if policies is not None else [], kind.lower())
        self.state.save()
        return json_response(200, {
            "id": vault_resource_id(vault) + "/accessPolicies/",
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "location": vault["location"],
            "properties": {"accessPolicies": (body.get("properties") or {}).get("accessPolicies") or []}})
