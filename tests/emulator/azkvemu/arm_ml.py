"""Microsoft.MachineLearningServices/workspaces on the emulated ARM (kinds Default, Hub, Project).

  GET, PUT, PATCH .../workspaces/{w}

Encryption is fixed at creation: status Enabled/Disabled never changes, and a
Project (properties.hubResourceId) takes its hub's encryption. The key may be
rotated — properties.encryption.keyVaultProperties.keyIdentifier set to another
key or version of the SAME vault (PUT or PATCH), as Azure ML allows — never to
another vault. At creation with a user-assigned encryption identity, and at
every rotation, that identity (else identityClientId's, else the system-assigned
one) must hold get, wrapKey and unwrapKey on the key (cmkrules.check_grant).
A system-assigned identity cannot be granted before the workspace exists, so
creation with one is not checked (Azure's first-party app does that wrap).

Codes: EncryptionCannotBeUpdated, KeyVaultCannotBeChanged, KeyVaultNotFound,
KeyNotFound, MissingIdentity, InvalidIdentityClientId, KeyVaultAccessForbidden,
HubNotFound, ProjectEncryptionInheritedFromHub (wording is the emulator's).
"""

import copy
import re

from . import cmkrules
from .arm_resources import WORKSPACES, find_resource, identity_json, set_identity, workspaces
from .httpmsg import ServiceError, bad_request, json_response
from .util import new_uuid, now_iso


def _key_ref(key_identifier):
    """(vault name or None, key name, version or None) from a key URL; the vault is named
    only for *.vault.azure.net hosts (a localhost-served vault has no name in its URL)."""
    m = re.match(r"^https://([^/]+)/keys/([^/]+)(?:/([^/]*))?/?$", key_identifier or "", re.I)
    if not m:
        raise bad_request("InvalidKeyVaultProperties",
                          f"The key identifier '{key_identifier}' is not a Key Vault key URL.")
    host = m.group(1).lower()
    vault = host.split(".", 1)[0] if host.endswith(".vault.azure.net") else None
    return vault, m.group(2), m.group(3) or None


def _data_location(rec, props):
    """Where a hub keeps its CMK-encrypted data, chosen at creation: service-side (properties.
    enableServiceSideCMKEncryption, in the preview specs from 2024-07-01-preview and in the
    Bicep/Terraform of 2025; absent from @azure/arm-machinelearning 2.1.1), or the legacy
    Microsoft-managed resource group azureml-rg-<hub>_<guid> in the customer's subscription
    (seeds/foundry-cmk-reference.txt, "Data storage options with Azure AI Hub CMK encryption").
    The emulator keeps the first value given and echoes it."""
    if props.get("enableServiceSideCMKEncryption") is not None:
        rec["service_side_cmk"] = bool(props["enableServiceSideCMKEncryption"])
    for k in ("primaryUserAssignedIdentity",):
        if props.get(k):
            rec[k] = props[k]


class WorkspaceApi:
    def __init__(self, state):
        self.state = state

    @staticmethod
    def _ws_encryption(enc):
        if not enc:
            return None
        kvp = enc.get("keyVaultProperties") or {}
        if enc.get("status") not in ("Enabled", "Disabled"):
            raise bad_request("InvalidEncryptionStatus", "encryption.status must be 'Enabled' or 'Disabled'.")
        if enc["status"] == "Enabled" and (not kvp.get("keyVaultArmId") or not kvp.get("keyIdentifier")):
            raise bad_request("InvalidKeyVaultProperties",
                              "encryption.keyVaultProperties.keyVaultArmId and keyIdentifier "
                              "are required when encryption is Enabled.")
        out = {"status": enc["status"],
               "keyVaultProperties": {k: kvp[k] for k in ("keyVaultArmId", "keyIdentifier", "identityClientId")
                                      if kvp.get(k)}}
        if enc.get("identity"):
            out["identity"] = {"userAssignedIdentity": enc["identity"].get("userAssignedIdentity")}
        return out

    def _ws_key(self, enc):
        """(vault, key name) named by an Enabled encryption; the key must exist."""
        kvp = enc["keyVaultProperties"]
        vault = self.state.get_vault(kvp["keyVaultArmId"].rstrip("/").split("/")[-1])
        if vault is None:
            raise bad_request("KeyVaultNotFound", f"The key vault '{kvp['keyVaultArmId']}' was not found.")
        host_vault, key_name, version = _key_ref(kvp["keyIdentifier"])
        cmkrules.check_same_vault(vault["name"], host_vault or vault["name"])
        entry = vault["keys"].get(key_name.lower())
        if entry is None or (version and version.lower() not in entry["versions"]):
            raise bad_request("KeyNotFound", f"The key '{kvp['keyIdentifier']}' was not found in key vault "
                                             f"'{vault['name']}'.")
        return vault, entry["name"]

    def _ws_check_grant(self, rec, enc, creating):
        if enc is None or enc["status"] != "Enabled":
            return
        vault, key_name = self._ws_key(enc)
        uai = (enc.get("identity") or {}).get("userAssignedIdentity")
        client_id = enc["keyVaultProperties"].get("identityClientId")
        self._ws_check_vault_and_key(rec, enc, vault, key_name, uai, client_id)
        if creating and not uai and not client_id:
            return
        ident = cmkrules.resolve_identity(self.state, rec.get("identity"), None, uai or None) if uai else \
            cmkrules.resolve_identity(self.state, rec.get("identity"), client_id)
        cmkrules.check_grant(self.state, vault, ident, key_name)

    def _ws_check_vault_and_key(self, rec, enc, vault, key_name, uai, client_id):
        """The vault and key rules an account's binding meets (cmkrules.check_vault, check_key:
        protection, region, tenant, firewall or Private Link; RSA 2048, usable), for a hub's or
        workspace's binding too: seeds/foundry-cmk-lab.txt, "Key Vault configuration" states them for
        "the Key Vault and Foundry hub", and seeds/foundry-cmk-reference.txt, "Use customer-managed keys
        with Azure Key Vault", for every Foundry resource. The tenant is checked when the identity
        that will use the key is known (a workspace without one has nothing to compare)."""
        try:
            ident = cmkrules.resolve_identity(self.state, rec.get("identity"), None if uai else client_id, uai or None)
        except ServiceError:
            ident = None
        cmkrules.check_vault(vault, rec["location"], ident)
        cmkrules.check_key(vault, key_name, _key_ref(enc["keyVaultProperties"]["keyIdentifier"])[2])

    def _hub_of(self, rec):
        return workspaces(self.state).get((rec.get("hub") or "").lower())

    def _effective_encryption(self, rec):
        hub = self._hub_of(rec)
        return hub.get("encryption") if hub is not None else rec.get("encryption")

    def workspace_json(self, rec):
        props = {"provisioningState": "Succeeded", "workspaceId": rec["workspace_id"],
                 "friendlyName": rec.get("friendly_name") or rec["name"], "hbiWorkspace": False,
                 "publicNetworkAccess": "Enabled", "creationTime": rec["created_at"]}
        enc = self._effective_encryption(rec)
        if enc:
            props["encryption"] = enc
        hub = self._hub_of(rec)
        if hub is not None:
            props["hubResourceId"] = (f"/subscriptions/{hub['subscription_id']}/resourceGroups/"
                                      f"{hub['resource_group']}/providers/{WORKSPACES}/{hub['name']}")
        for k in ("keyVault", "storageAccount", "applicationInsights", "containerRegistry", "description",
                  "primaryUserAssignedIdentity"):
            if rec.get(k):
                props[k] = rec[k]
        if rec.get("service_side_cmk") is not None:
            props["enableServiceSideCMKEncryption"] = rec["service_side_cmk"]
        out = {"id": (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                      f"/providers/{WORKSPACES}/{rec['name']}"),
               "name": rec["name"], "type": WORKSPACES,
               "location": rec["location"], "kind": rec.get("kind", "Default"), "tags": rec.get("tags", {}),
               "sku": {"name": "Basic", "tier": "Basic"}, "properties": props,
               "systemData": {"createdAt": rec["created_at"], "lastModifiedAt": now_iso()}}
        ident = identity_json(rec)
        if ident:
            out["identity"] = ident
        return out

    def get_workspace(self, req, claims, body, sub, rg, name):
        rec = find_resource(workspaces(self.state), WORKSPACES, sub, rg, name)
        return json_response(200, self.workspace_json(rec))

    def _new_encryption(self, rec, props, patch):
        """The encryption after the request (None: unchanged), with the fixed-at-creation rules applied."""
        if "encryption" not in props or props["encryption"] is None:
            return None
        given = props["encryption"]
        current = self._effective_encryption(rec)
        if patch:
            merged = copy.deepcopy(current or {"status": "Disabled"})
            merged.setdefault("keyVaultProperties", {}).update(given.get("keyVaultProperties") or {})
            for k in ("status", "identity"):
                if given.get(k):
                    merged[k] = given[k]
            given = merged
        enc = self._ws_encryption(given)
        if enc == current:
            return None
        if self._hub_of(rec) is not None:
            raise bad_request("ProjectEncryptionInheritedFromHub",
                              "A project takes its hub's encryption; change the key on the hub.")
        if (current or {}).get("status", "Disabled") != enc["status"]:
            # Wording is the emulator's: workspace CMK is fixed at creation in Azure.
            raise bad_request("EncryptionCannotBeUpdated",
                              "The encryption status of a workspace cannot be changed after it is created "
                              "(customer-managed keys are chosen at creation).")
        if enc["status"] == "Enabled":
            old_vault = current["keyVaultProperties"]["keyVaultArmId"].rstrip("/").split("/")[-1]
            new_vault = enc["keyVaultProperties"]["keyVaultArmId"].rstrip("/").split("/")[-1]
            cmkrules.check_same_vault(old_vault, new_vault)
            self._ws_check_grant(rec, enc, creating=False)
        return enc

    def _create_workspace(self, body, sub, rg, name):
        props = body.get("properties") or {}
        if not body.get("location"):
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        rec = {"name": name, "subscription_id": sub, "resource_group": rg, "location": body["location"],
               "kind": body.get("kind") or "Default", "workspace_id": new_uuid(),
               "created_at": now_iso(), "encryption": None, "identity": None, "tags": {}}
        enc = self._ws_encryption(props.get("encryption"))
        if props.get("hubResourceId"):
            hub = workspaces(self.state).get(props["hubResourceId"].rstrip("/").split("/")[-1].lower())
            if hub is None or hub.get("kind", "").lower() != "hub":
                raise bad_request("HubNotFound", f"The hub workspace '{props['hubResourceId']}' was not found.")
            if enc is not None and enc != hub.get("encryption"):
                raise bad_request("ProjectEncryptionInheritedFromHub",
                                  "A project takes its hub's encryption; do not set a different one.")
            rec["hub"] = hub["name"]
            return rec
        rec["encryption"] = enc
        return rec

    def _write_workspace(self, req, claims, body, sub, rg, name, patch):
        table = workspaces(self.state)
        props = body.get("properties") or {}
        existing = table.get(name.lower())
        if existing is None:
            if patch:
                find_resource(table, WORKSPACES, sub, rg, name)   # 404
            rec = self._create_workspace(body, sub, rg, name)
            _data_location(rec, props)
            status = 201
        else:
            rec = copy.deepcopy(find_resource(table, WORKSPACES, sub, rg, name))
            status = 200
        if "identity" in body:
            set_identity(self.state, rec, body["identity"], claims.get("tid"))
        if existing is None:
            self._ws_check_grant(rec, rec.get("encryption"), creating=True)
            if rec.get("encryption") and rec["encryption"]["status"] == "Enabled":
                self._ws_key(rec["encryption"])
        else:
            enc = self._new_encryption(rec, props, patch)
            if enc is not None:
                rec["encryption"] = enc
        for k in ("keyVault", "storageAccount", "applicationInsights", "containerRegistry", "description",
                  "friendlyName"):
            if props.get(k):
                rec["friendly_name" if k == "friendlyName" else k] = props[k]
        if "tags" in body:
            rec["tags"] = body.get("tags") or {}
        table[name.lower()] = rec
        self.state.save()
        return json_response(status, self.workspace_json(rec))

    def put_workspace(self, req, claims, body, sub, rg, name):
        return self._write_workspace(req, claims, body, sub, rg, name, patch=False)

    def patch_workspace(self, req, claims, body, sub, rg, name):
        return self._write_workspace(req, claims, body, sub, rg, name, patch=True)
