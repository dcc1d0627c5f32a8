"""Microsoft.Storage/storageAccounts on the emulated ARM, for a hub's default storage account
and its customer-managed key.

  PUT, GET, PATCH .../resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{a}

Shape from @azure/arm-storage 20.0.0 (api-version 2025-08-01; models.js): properties.encryption
is {keySource: Microsoft.Storage | Microsoft.Keyvault, keyvaultproperties: {keyname, keyversion,
keyvaulturi, currentVersionedKeyIdentifier, lastKeyRotationTimestamp}, identity:
{userAssignedIdentity, federatedIdentityClientId}, services, requireInfrastructureEncryption}
(the wire names are lower case: keyvaultproperties, keyname...). PUT (create) is a long-running
operation answering 200 or 202; this one answers 200 with the account, already done.

Storage's CMK rules, as Microsoft documents them ("Customer-managed keys for Azure Storage
encryption", cited by seeds/foundry-cmk-reference.txt, "About encryption in Azure AI Foundry"):
the vault has soft delete and purge protection, lets trusted Microsoft services through its
firewall, and is in the identity's tenant (another tenant needs federatedIdentityClientId,
which the emulator does not model); the key is RSA or RSA-HSM of 2048, 3072 or 4096 bits,
enabled, with wrapKey and unwrapKey; the identity (encryption.identity.userAssignedIdentity,
else the system-assigned one) holds get, wrapKey and unwrapKey. Unlike Foundry, the vault may
be in another region, and the account may go back to Microsoft-managed keys. Checked by
cmkrules.py (same codes as Foundry's).
"""

import copy

from . import cmkrules
from .arm_resources import identity_json, not_found, set_identity, vault_by_uri
from .httpmsg import bad_request, json_response
from .util import new_uuid, now_iso

STORAGE = "Microsoft.Storage/storageAccounts"
STORAGE_KEY_BITS = (2048, 3072, 4096)


def storage_accounts(state) -> dict:
    """Storage accounts by lower-case name (names are global in Azure)."""
    return state.doc.setdefault("storage_accounts", {})


class StorageApi:
    def __init__(self, state):
        self.state = state

    def storage_json(self, rec):
        enc = rec.get("encryption") or {"keySource": "Microsoft.Storage"}
        enc = dict(enc, services={s: {"enabled": True, "keyType": "Account", "lastEnabledTime": rec["created_at"]}
                                  for s in ("blob", "file")})
        name = rec["name"]
        out = {"id": (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                      f"/providers/{STORAGE}/{name}"),
               "name": name, "type": STORAGE, "location": rec["location"], "kind": rec["kind"],
               "sku": rec["sku"], "tags": rec.get("tags", {}),
               "properties": {"provisioningState": "Succeeded", "creationTime": rec["created_at"],
                              "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/",
                                                   "file": f"https://{name}.file.core.windows.net/"},
                              "encryption": enc,
                              "allowSharedKeyAccess": rec.get("allow_shared_key_access", True),
                              "publicNetworkAccess": rec.get("public_network_access", "Enabled")}}
        ident = identity_json(rec)
        if ident:
            out["identity"] = ident
        return out

    def _find(self, sub, rg, name):
        rec = storage_accounts(self.state).get(name.lower())
        if rec is None or rec["subscription_id"].lower() != sub.lower() or rec["resource_group"].lower() != rg.lower():
            raise not_found(STORAGE, name, rg)
        return rec

    def _encryption(self, rec, enc):
        """The encryption block after the request, with Storage's CMK rules checked."""
        source = enc.get("keySource") or "Microsoft.Storage"
        if source.lower() == "microsoft.storage":
            return {"keySource": "Microsoft.Storage"}
        if source.lower() != "microsoft.keyvault":
            raise bad_request("InvalidValuesForRequestParameters",
                              f"Values for request parameters are invalid: keySource '{source}'.")
        kvp = enc.get("keyvaultproperties") or {}
        if not kvp.get("keyname") or not kvp.get("keyvaulturi"):
            raise bad_request("InvalidValuesForRequestParameters",
                              "keyvaultproperties.keyname and keyvaultproperties.keyvaulturi are required when "
                              "keySource is Microsoft.Keyvault.")
        vault = vault_by_uri(self.state, kvp["keyvaulturi"])
        uai = (enc.get("identity") or {}).get("userAssignedIdentity")
        ident = cmkrules.resolve_identity(self.state, rec.get("identity"), None, uai or None)
        # Storage allows a vault in another region: the vault's own location passes that rule.
        cmkrules.check_vault(vault, vault["location"], ident)
        _, record = cmkrules.check_key(vault, kvp["keyname"], kvp.get("keyversion"), sizes=STORAGE_KEY_BITS)
        cmkrules.check_grant(self.state, vault, ident, kvp["keyname"])
        props = {"keyname": kvp["keyname"], "keyvaulturi": kvp["keyvaulturi"],
                 "currentVersionedKeyIdentifier": (f"{kvp['keyvaulturi'].rstrip('/')}/keys/{kvp['keyname']}/"
                                                   f"{record['version']}"),
                 "lastKeyRotationTimestamp": now_iso()}
        if kvp.get("keyversion"):
            props["keyversion"] = kvp["keyversion"]
        out = {"keySource": "Microsoft.Keyvault", "keyvaultproperties": props}
        if uai:
            out["identity"] = {"userAssignedIdentity": uai}
        return out

    def _write(self, claims, body, rec):
        rec = copy.deepcopy(rec)
        props = body.get("properties") or {}
        if "identity" in body:
            set_identity(self.state, rec, body["identity"], claims.get("tid"))
        if props.get("encryption") is not None:
            rec["encryption"] = self._encryption(rec, props["encryption"])
        if "allowSharedKeyAccess" in props:
            rec["allow_shared_key_access"] = bool(props["allowSharedKeyAccess"])
        if props.get("publicNetworkAccess"):
            rec["public_network_access"] = props["publicNetworkAccess"]
        if "tags" in body:
            rec["tags"] = body.get("tags") or {}
        return rec

    def get_storage(self, req, claims, body, sub, rg, name):
        return json_response(200, self.storage_json(self._find(sub, rg, name)))

    def put_storage(self, req, claims, body, sub, rg, name):
        table = storage_accounts(self.state)
        rec = table.get(name.lower())
        if rec is None:
            if not body.get("location"):
                raise bad_request("LocationRequired", "The location property is required for this definition.")
            rec = {"name": name, "subscription_id": sub, "resource_group": rg, "location": body["location"],
                   "kind": body.get("kind") or "StorageV2", "sku": body.get("sku") or {"name": "Standard_LRS"},
                   "created_at": now_iso(), "encryption": None, "identity": None, "tags": {},
                   "account_id": new_uuid()}
        else:
            rec = self._find(sub, rg, name)
        table[name.lower()] = self._write(claims, body, rec)
        self.state.save()
        return json_response(200, self.storage_json(table[name.lower()]))

    def patch_storage(self, req, claims, body, sub, rg, name):
        table = storage_accounts(self.state)
        table[name.lower()] = self._write(claims, body, self._find(sub, rg, name))
        self.state.save()
        return json_response(200, self.storage_json(table[name.lower()]))
