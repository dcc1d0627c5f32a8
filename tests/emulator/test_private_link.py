#!/usr/bin/python3
"""Private Link and deleted vaults on the emulated ARM (arm_private_link.py), and the vault and
key rules a hub's or workspace's binding meets (arm_ml.py through cmkrules.py).

Sources: the Key Vault management REST spec, Microsoft.KeyVault 2023-07-01, as the JS client
@azure/arm-keyvault 5.0.0 reads it (privateEndpointConnections get/put/delete/list, the vault's
properties.privateEndpointConnections items, deletedVaults get/list/purge); Azure's 409
ConflictError for a new vault over a deleted one is the message `az keyvault create` shows;
seeds/foundry-cmk-lab.txt, "Key Vault configuration" (Private Link or trusted services; the rules
for "the Key Vault and Foundry hub")."""

import unittest

from emutest import ARM, ARM_SCOPE, KV_API, ML_API, SUB, Emulator, vault_path, workspace_path

EMU = None
W = {}


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["tenant"] = EMU.admin("show-tenant")
    W["admin"] = EMU.admin("add-identity", "--name", "pl-admin")
    W["tok"] = EMU.token(W["admin"], scope=ARM_SCOPE)


def tearDownModule():
    if EMU:
        EMU.cleanup()


def arm(method, path, body=None, api=KV_API):
    return EMU.request(method, f"{ARM}{path}?api-version={api}", body=body, token=W["tok"])


def pec_path(vault, name=None):
    return vault_path(vault) + "/privateEndpointConnections" + (f"/{name}" if name else "")


def new_vault(name, **props):
    body = {"location": "eastus", "properties": dict({
        "tenantId": W["tenant"]["tenant_id"], "sku": {"family": "A", "name": "standard"},
        "enablePurgeProtection": True, "enableRbacAuthorization": True}, **props)}
    r = arm("PUT", vault_path(name), body)
    assert r.status == 200, r
    return r.json


class PrivateEndpointConnectionTests(unittest.TestCase):
    def test_pending_then_approved_then_deleted(self):
        new_vault("plkv1")
        made = EMU.admin("add-private-endpoint", "--vault", "plkv1", "--name", "pe1")
        self.assertEqual(made["status"], "Pending")
        r = arm("GET", pec_path("plkv1", "pe1"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["type"], "Microsoft.KeyVault/vaults/privateEndpointConnections")
        self.assertEqual(r.json["properties"]["privateLinkServiceConnectionState"]["status"], "Pending")
        self.assertTrue(r.json["properties"]["privateEndpoint"]["id"].endswith(
            "/providers/Microsoft.Network/privateEndpoints/pe1"))
        etag = r.json["etag"]
        # The vault's owner approves it: PUT with privateLinkServiceConnectionState.
        r = arm("PUT", pec_path("plkv1", "pe1"), {"etag": etag, "properties": {
            "privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["properties"]["privateLinkServiceConnectionState"]["status"], "Approved")
        self.assertNotEqual(r.json["etag"], etag)
        items = arm("GET", vault_path("plkv1")).json["properties"]["privateEndpointConnections"]
        self.assertEqual([i["properties"]["privateLinkServiceConnectionState"]["status"] for i in items],
                         ["Approved"])
        self.assertTrue(items[0]["id"].endswith("/privateEndpointConnections/pe1"))
        self.assertEqual([c["name"] for c in arm("GET", pec_path("plkv1")).json["value"]], ["pe1"])
        r = arm("DELETE", pec_path("plkv1", "pe1"))
        self.assertEqual((r.status, r.json["properties"]["provisioningState"]), (200, "Deleting"), r)
        self.assertEqual(arm("GET", pec_path("plkv1", "pe1")).status, 404)
        self.assertEqual(arm("DELETE", pec_path("plkv1", "pe1")).status, 204)
        self.assertEqual(arm("GET", vault_path("plkv1")).json["properties"]["privateEndpointConnections"], [])

    def test_bad_status_refused(self):
        new_vault("plkv2")
        EMU.admin("add-private-endpoint", "--vault", "plkv2", "--name", "pe2")
        r = arm("PUT", pec_path("plkv2", "pe2"), {"properties": {
            "privateLinkServiceConnectionState": {"status": "Maybe"}}})
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "BadRequest"), r)


class DeletedVaultTests(unittest.TestCase):
    def test_delete_conflict_recover_purge(self):
        new_vault("delkv1")
        self.assertEqual(arm("DELETE", vault_path("delkv1")).status, 200)
        self.assertEqual(arm("GET", vault_path("delkv1")).status, 404)
        r = arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/delkv1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["properties"]["vaultId"], vault_path("delkv1"))
        self.assertTrue(r.json["properties"]["purgeProtectionEnabled"])
        self.assertIn("delkv1", [v["name"] for v in arm(
            "GET", f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/deletedVaults").json["value"]])
        # A new vault of that name: Azure's 409, the message az keyvault create shows.
        body = {"location": "eastus", "properties": {"tenantId": W["tenant"]["tenant_id"],
                                                     "sku": {"family": "A", "name": "standard"}}}
        r = arm("PUT", vault_path("delkv1"), body)
        self.assertEqual((r.status, r.json["error"]["code"]), (409, "ConflictError"), r)
        self.assertIn("recover or purge", r.json["error"]["message"])
        # Purge protection forbids a purge; recover brings it back.
        r = arm("POST", f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/eastus/"
                        "deletedVaults/delkv1/purge")
        self.assertEqual(r.status, 400, r)
        body["properties"]["createMode"] = "recover"
        self.assertEqual(arm("PUT", vault_path("delkv1"), body).status, 200)
        self.assertTrue(arm("GET", vault_path("delkv1")).json["properties"]["enablePurgeProtection"])

    def test_purge_frees_the_name(self):
        r = arm("PUT", vault_path("delkv2"), {"location": "eastus", "properties": {
            "tenantId": W["tenant"]["tenant_id"], "sku": {"family": "A", "name": "standard"}}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(arm("DELETE", vault_path("delkv2")).status, 200)
        r = arm("POST", f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/eastus/"
                        "deletedVaults/delkv2/purge")
        self.assertEqual(r.status, 202, r)
        r = arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/delkv2")
        self.assertEqual(r.status, 404, r)


class HubBindingRuleTests(unittest.TestCase):
    """A hub created with CMK meets the account's vault and key rules (cmkrules.py)."""

    def hub(self, name, vault, key, location="eastus"):
        enc = {"status": "Enabled", "keyVaultProperties": {
            "keyVaultArmId": vault_path(vault), "keyIdentifier": f"https://{vault}.vault.azure.net/keys/{key}"}}
        return arm("PUT", workspace_path(name), {"location": location, "kind": "Hub",
                                                 "identity": {"type": "SystemAssigned"},
                                                 "properties": {"encryption": enc}}, api=ML_API)

    def test_refusals_with_their_codes(self):
        EMU.admin("add-vault", "--name", "hubnopp")
        EMU.admin("create-key", "--vault", "hubnopp", "--name", "k")
        r = self.hub("hubr1", "hubnopp", "k")
        self.assertEqual((r.status, r.json["error"]["code"]),
                         (400, "KeyVaultSoftDeleteAndPurgeProtectionRequired"), r)
        EMU.admin("add-vault", "--name", "hubwest", "--purge-protection", "--location", "westus")
        EMU.admin("create-key", "--vault", "hubwest", "--name", "k")
        r = self.hub("hubr2", "hubwest", "k")
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultRegionMismatch"), r)
        other = EMU.admin("add-tenant", "--name", "hub-other")
        EMU.admin("add-vault", "--name", "hubtenant", "--purge-protection", "--tenant", other["tenant_id"])
        EMU.admin("create-key", "--vault", "hubtenant", "--name", "k")
        r = self.hub("hubr3", "hubtenant", "k")
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultTenantMismatch"), r)
        EMU.admin("add-vault", "--name", "hubsize", "--purge-protection")
        EMU.admin("create-key", "--vault", "hubsize", "--name", "big", "--size", "3072")
        r = self.hub("hubr4", "hubsize", "big")
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeySizeNotSupported"), r)
        for name in ("hubr1", "hubr2", "hubr3", "hubr4"):
            self.assertEqual(arm("GET", workspace_path(name), api=ML_API).status, 404)

    def test_private_link_opens_a_closed_vault(self):
        new_vault("hubpl", publicNetworkAccess="Disabled",
                  networkAcls={"bypass": "None", "defaultAction": "Deny"})
        EMU.admin("create-key", "--vault", "hubpl", "--name", "k")
        r = self.hub("hubpl1", "hubpl", "k")
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultNetworkAccessDenied"), r)
        EMU.admin("add-private-endpoint", "--vault", "hubpl", "--name", "pe", "--status", "Rejected")
        r = self.hub("hubpl1", "hubpl", "k")
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultNetworkAccessDenied"), r)
        EMU.admin("add-private-endpoint", "--vault", "hubpl", "--name", "pe", "--status", "Approved")
        r = self.hub("hubpl1", "hubpl", "k")
        self.assertEqual(r.status, 201, r)


if __name__ == "__main__":
    unittest.main()
