"""Microsoft.CognitiveServices/accounts (Foundry resources) on the emulated ARM.

  GET, PUT, PATCH .../accounts/{a}   (PATCH is a long-running operation: 202 +
                                      Azure-AsyncOperation + Location)
  GET .../locations/{l}/operationStatuses|operationResults/{id}   (operation status, result)

CMK rules in cmkrules.py, the account's data key in foundrykeys.py.
"""

import copy

from . import cmkrules
from .arm_projects import account_project_properties, set_project_management
from .arm_resources import ACCOUNTS, accounts, find_resource, identity_json, set_identity, vault_by_uri
from .foundrykeys import KeyInaccessible
from .httpmsg import Response, ServiceError, bad_request, json_response
from .state import StateError
from .util import new_uuid, now_iso


class AccountApi:
    def __init__(self, state, foundry_keys):
        self.state = state
        self.foundry_keys = foundry_keys

    def account_json(self, rec, provisioning="Succeeded"):
        props = {"provisioningState": provisioning,
                 "endpoint": f"https://{rec['custom_subdomain'] or rec['name']}.cognitiveservices.azure.com/",
                 "internalId": rec["internal_id"], "dateCreated": rec["created_at"],
                 "customSubDomainName": rec["custom_subdomain"],
                 "publicNetworkAccess": rec.get("public_network_access", "Enabled")}
        if rec.get("encryption"):
            props["encryption"] = rec["encryption"]
        props.update(account_project_properties(self.state, rec))
        out = {"id": (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                      f"/providers/{ACCOUNTS}/{rec['name']}"),
               "name": rec["name"], "type": ACCOUNTS,
               "etag": rec["etag"], "location": rec["location"], "kind": rec["kind"],
               "sku": rec["sku"], "tags": rec.get("tags", {}), "properties": props,
               "systemData": {"createdAt": rec["created_at"], "lastModifiedAt": now_iso()}}
        ident = identity_json(rec)
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
        vault = vault_by_uri(self.state, kvp["keyVaultUri"])
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

    def put_account(self, req, claims, body, sub, rg, name):
        table = accounts(self.state)
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
            rec = find_resource(table, ACCOUNTS, sub, rg, name)
        rec = self._update_account(rec, body, claims)
        table[name.lower()] = rec
        self.state.save()
        return json_response(201 if created else 200, self.account_json(rec))

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
            set_identity(self.state, rec, body["identity"], claims.get("tid"))
        if "encryption" in props:
            rec["encryption"] = self._check_encryption(rec, props["encryption"])
            try:
                # The service wraps a data key with the key version now bound (a versionless
                # binding: the version current now; it is not followed later), see foundrykeys.py.
                self.foundry_keys.bind(rec)
            except KeyInaccessible as err:
                raise bad_request("KeyVaultAccessForbidden", f"The account cannot wrap its data key with the key: "
                                                             f"{err.reason}: {err.message}") from None
        set_project_management(rec, props)
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

    def get_account(self, req, claims, body, sub, rg, name):
        return json_response(200, self.account_json(
            find_resource(accounts(self.state), ACCOUNTS, sub, rg, name)))

    def patch_account(self, req, claims, body, sub, rg, name):
        rec = find_resource(accounts(self.state), ACCOUNTS, sub, rg, name)
        rec = self._update_account(rec, body, claims)
        accounts(self.state)[name.lower()] = rec
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
        return json_response(202, self.account_json(rec, provisioning="Accepted"), headers=[
            ("Azure-AsyncOperation", f"{prefix}/operationStatuses/{op}?api-version={api}"),
            ("Location", f"{prefix}/operationResults/{op}?api-version={api}"),
            ("Retry-After", "1")])

    def get_operation(self, req, claims, body, sub, provider, loc, what, op):
        rec = self.state.doc.get("operations", {}).get(op.lower())
        if rec is None:
            raise ServiceError(404, "NotFound", f"The operation '{op}' was not found.")
        if what.lower() == "operationresults":
            account = accounts(self.state).get(rec.get("account", ""))
            if account is None:
                return Response(204)
            return json_response(200, self.account_json(account))
        return json_response(200, {"id": req.path, "name": op, "status": rec["status"],
                                   "startTime": rec["start"], "endTime": rec["start"]})
