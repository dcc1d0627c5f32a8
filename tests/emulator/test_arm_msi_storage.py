#!/usr/bin/python3
"""User-assigned managed identities (Microsoft.ManagedIdentity/userAssignedIdentities) and
storage accounts with customer-managed keys (Microsoft.Storage/storageAccounts) on the
emulated ARM, and a hub's record of where its CMK data is kept.

Sources: @azure/arm-msi 2.2.0 (Identity: properties.tenantId, principalId, clientId; PUT 200/201,
DELETE 200/204); @azure/arm-storage 20.0.0 (encryption.keySource Microsoft.Storage|Microsoft.Keyvault,
keyvaultproperties.keyname/keyversion/keyvaulturi, identity.userAssignedIdentity); Microsoft's
"Customer-managed keys for Azure Storage encryption" (soft delete and purge protection, RSA 2048/
3072/4096, get/wrapKey/unwrapKey for the identity, the vault may be in another region);
seeds/foundry-cmk-reference.txt ("Data storage options with Azure AI Hub CMK encryption")."""

import unittest

from emutest import ARM, ARM_SCOPE, RG, SUB, Emulator, vault_url

EMU = None
W = {}
MSI_API = "2024-11-30"
STORAGE_API = "2025-08-01"
ML_API = "2024-10-01"
UAIS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts"
WS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces"
KVURI = "https://skv.vault.azure.net/"


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["admin"] = EMU.admin("add-identity", "--name", "msi-admin")
    W["owner"] = EMU.admin("add-identity", "--name", "skv-owner")
    W["tok"] = EMU.token(W["admin"], scope=ARM_SCOPE)
    EMU.admin("add-vault", "--name", "skv", "--purge-protection", "--location", "westus")
    EMU.admin("add-vault", "--name", "nopurge")
    EMU.admin("set-policy", "--vault", "skv", "--identity", "skv-owner", "--keys", "all")
    for name, size in (("k2048", 2048), ("k4096", 4096)):
        EMU.admin_api("POST", "/vaults/skv/keys", {"name": name, "size": size})
    EMU.admin_api("POST", "/vaults/nopurge/keys", {"name": "k"})


def tearDownModule():
    if EMU:
        EMU.cleanup()


def arm(method, path, body=None, api=MSI_API):
    return EMU.request(method, f"{ARM}{path}?api-version={api}", body=body, token=W["tok"])


def uai(name):
    r = arm("PUT", f"{UAIS}/{name}", {"location": "eastus"})
    assert r.status in (200, 201), r
    return r.json


def grant(vault, principal):
    EMU.admin_api("PUT", f"/vaults/{vault}/access-policies/{principal}", {"keys": ["get", "wrapKey", "unwrapKey"]})


def storage_cmk(name, ident_id, key="k2048", vault_uri=KVURI, identity=True):
    body = {"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "properties": {"encryption": {"keySource": "Microsoft.Keyvault",
                                          "keyvaultproperties": {"keyname": key, "keyvaulturi": vault_uri},
                                          "identity": {"userAssignedIdentity": ident_id}}}}
    if identity:
        body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {ident_id: {}}}
    return arm("PUT", f"{STORAGE}/{name}", body, api=STORAGE_API)


class UserAssignedIdentityTests(unittest.TestCase):
    def test_put_get_list_delete(self):
        created = uai("uai-one")
        self.assertEqual(created["type"], "Microsoft.ManagedIdentity/userAssignedIdentities")
        props = created["properties"]
        self.assertEqual(props["tenantId"], W["admin"]["tenant_id"])
        again = arm("PUT", f"{UAIS}/uai-one", {"location": "eastus", "tags": {"a": "b"}})
        self.assertEqual(again.status, 200)
        self.assertEqual(again.json["properties"]["clientId"], props["clientId"])
        self.assertEqual(arm("GET", f"{UAIS}/uai-one").json["properties"]["principalId"], props["principalId"])
        names = [i["name"] for i in arm("GET", UAIS).json["value"]]
        self.assertIn("uai-one", names)
        sub_list = arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities")
        self.assertIn("uai-one", [i["name"] for i in sub_list.json["value"]])
        self.assertEqual(arm("DELETE", f"{UAIS}/uai-one").status, 200)
        self.assertEqual(arm("GET", f"{UAIS}/uai-one").status, 404)
        self.assertEqual(arm("DELETE", f"{UAIS}/uai-one").status, 204)

    def test_identity_gets_tokens_and_grants_work(self):
        ident = uai("uai-wrap")["properties"]
        grant("skv", ident["principalId"])
        tok = EMU.admin("issue-token", "--identity", ident["clientId"], "--resource",
                        "https://vault.azure.net")["access_token"]
        r = EMU.request("POST", vault_url("skv", "/keys/k2048/wrapkey"),
                        body={"alg": "RSA-OAEP-256", "value": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
                        token=tok)
        self.assertEqual(r.status, 200, r)

    def test_known_managed_identity_of_another_tenant_is_adopted(self):
        other = EMU.admin("add-tenant", "--name", "other-msi-tenant")
        EMU.admin("add-identity", "--name", "uai-foreign", "--managed", "--tenant", other["tenant_id"])
        self.assertEqual(uai("uai-foreign")["properties"]["tenantId"], other["tenant_id"])

    def test_location_required(self):
        r = arm("PUT", f"{UAIS}/uai-noloc", {})
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "LocationRequired"))


class StorageCmkTests(unittest.TestCase):
    def test_microsoft_managed_by_default(self):
        r = arm("PUT", f"{STORAGE}/plainsa", {"location": "eastus", "kind": "StorageV2",
                                             "sku": {"name": "Standard_LRS"}}, api=STORAGE_API)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["properties"]["encryption"]["keySource"], "Microsoft.Storage")

    def test_cmk_with_granted_identity_and_other_region_vault(self):
        ident = uai("uai-sa")
        grant("skv", ident["properties"]["principalId"])
        r = storage_cmk("cmksa", ident["id"])
        self.assertEqual(r.status, 200, r)
        enc = r.json["properties"]["encryption"]
        self.assertEqual(enc["keySource"], "Microsoft.Keyvault")
        self.assertEqual(enc["keyvaultproperties"]["keyname"], "k2048")
        self.assertEqual(enc["identity"]["userAssignedIdentity"], ident["id"])
        self.assertTrue(enc["keyvaultproperties"]["currentVersionedKeyIdentifier"].startswith(
            "https://skv.vault.azure.net/keys/k2048/"))
        # Storage takes 4096-bit keys (Foundry does not), and may go back to Microsoft-managed keys.
        r = arm("PATCH", f"{STORAGE}/cmksa", {"properties": {"encryption": {
            "keySource": "Microsoft.Keyvault", "keyvaultproperties": {"keyname": "k4096", "keyvaulturi": KVURI},
            "identity": {"userAssignedIdentity": ident["id"]}}}}, api=STORAGE_API)
        self.assertEqual(r.status, 200, r)
        r = arm("PATCH", f"{STORAGE}/cmksa", {"properties": {"encryption": {"keySource": "Microsoft.Storage"}}},
                api=STORAGE_API)
        self.assertEqual(r.json["properties"]["encryption"]["keySource"], "Microsoft.Storage")

    def test_refusals(self):
        ident = uai("uai-sa-refused")
        r = storage_cmk("refusedsa", ident["id"])
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultAccessForbidden"))
        grant("nopurge", ident["properties"]["principalId"])
        r = storage_cmk("refusedsa", ident["id"], key="k", vault_uri="https://nopurge.vault.azure.net/")
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultSoftDeleteAndPurgeProtectionRequired"))
        r = storage_cmk("refusedsa", f"{UAIS}/not-assigned", identity=False)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "InvalidIdentityClientId"))
        self.assertEqual(arm("GET", f"{STORAGE}/refusedsa", api=STORAGE_API).status, 404)


class HubDataLocationTests(unittest.TestCase):
    def test_service_side_flag_is_kept_and_echoed(self):
        for name, flag in (("hub-ss", True), ("hub-legacy", False)):
            r = arm("PUT", f"{WS}/{name}", {"location": "eastus", "kind": "Hub",
                                            "properties": {"enableServiceSideCMKEncryption": flag,
                                                           "storageAccount": f"{STORAGE}/cmksa"}}, api=ML_API)
            self.assertEqual(r.status, 201, r)
            got = arm("GET", f"{WS}/{name}", api=ML_API).json["properties"]
            self.assertIs(got["enableServiceSideCMKEncryption"], flag)
            self.assertEqual(got["storageAccount"], f"{STORAGE}/cmksa")


if __name__ == "__main__":
    unittest.main()
