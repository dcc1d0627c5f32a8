#!/usr/bin/python3
"""Control-plane RBAC of the ARM caller (azkvemu/arm_rbac.py): off by default; when on,
each request's action must be granted by a role assignment at its scope or above."""

import unittest
import uuid

from emutest import (ARM, ARM_SCOPE, AUTHZ_API, CSEU, KV_API as API, RG, SUB, Emulator,
                     account_path, vault_path, workspace_path)

EMU = None
W = {}
VAULT = vault_path("rbackv")
ACCOUNT = account_path("rbacacct")
WORKSPACE = workspace_path("rbacws")


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["tenant"] = EMU.admin("show-tenant")
    EMU.admin("add-vault", "--name", "rbackv", "--purge-protection")
    EMU.admin("add-account", "--name", "rbacacct", "--identity", "system")
    EMU.admin("add-workspace", "--name", "rbacws")


def tearDownModule():
    if EMU:
        EMU.cleanup()


def caller(name, role=None, scope=None):
    """A new identity with an ARM token, optionally given `role` at `scope` through the admin CLI."""
    ident = EMU.admin("add-identity", "--name", f"{name}-{uuid.uuid4().hex[:6]}")
    if role:
        EMU.admin("assign-role", "--scope", scope, "--identity", ident["client_id"], "--role", role)
    ident["tok"] = EMU.token(ident, scope=ARM_SCOPE)
    return ident


def arm(who, method, path, body=None, api=API):
    return EMU.request(method, f"{ARM}{path}?api-version={api}", body=body, token=who["tok"])


def ra_body(principal, role=CSEU):
    return {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                           f"roleDefinitions/{role}", "principalId": principal}}


def policy(oid, keys=("get",)):
    return {"properties": {"accessPolicies": [{"tenantId": W["tenant"]["tenant_id"], "objectId": oid,
                                               "permissions": {"keys": list(keys)}}]}}


class ArmRbacOffTests(unittest.TestCase):
    def setUp(self):
        EMU.admin("arm-rbac", "off")

    def test_off_by_default_anything_allowed(self):
        self.assertEqual(EMU.admin("arm-rbac"), {"enabled": False})
        nobody = caller("off-nobody")
        self.assertEqual(arm(nobody, "GET", VAULT).status, 200)
        self.assertEqual(arm(nobody, "PATCH", VAULT, {"tags": {"t": "1"}}).status, 200)


class ArmRbacOnTests(unittest.TestCase):
    def setUp(self):
        self.assertEqual(EMU.admin("arm-rbac", "on"), {"enabled": True})

    def tearDown(self):
        EMU.admin("arm-rbac", "off")

    def assertDenied(self, reply, who, action, scope):
        self.assertEqual(reply.status, 403, reply)
        self.assertEqual(reply.json, {"error": {
            "code": "AuthorizationFailed",
            "message": f"The client '{who['object_id']}' with object id '{who['object_id']}' does not have "
                       f"authorization to perform action '{action}' over scope '{scope}' or the scope is "
                       "invalid. If access was recently granted, please refresh your credentials."}})

    def test_unassigned_identity_gets_403_on_get(self):
        nobody = caller("nobody")
        self.assertDenied(arm(nobody, "GET", VAULT), nobody, "Microsoft.KeyVault/vaults/read", VAULT)
        self.assertDenied(arm(nobody, "GET", ACCOUNT), nobody, "Microsoft.CognitiveServices/accounts/read", ACCOUNT)
        # refused before the resource is looked up: no 404 for a vault that does not exist
        missing = VAULT.replace("rbackv", "nosuchvault")
        self.assertDenied(arm(nobody, "GET", missing), nobody, "Microsoft.KeyVault/vaults/read", missing)

    def test_reader_reads_but_cannot_write(self):
        reader = caller("reader", "Reader", f"/subscriptions/{SUB}/resourceGroups/{RG}")
        for path in (VAULT, ACCOUNT, WORKSPACE):
            self.assertEqual(arm(reader, "GET", path).status, 200, path)
        self.assertDenied(arm(reader, "PATCH", VAULT, {"tags": {"a": "b"}}), reader,
                          "Microsoft.KeyVault/vaults/write", VAULT)
        self.assertDenied(arm(reader, "PUT", ACCOUNT, {"location": "eastus"}), reader,
                          "Microsoft.CognitiveServices/accounts/write", ACCOUNT)
        self.assertDenied(arm(reader, "PATCH", WORKSPACE, {"tags": {"a": "b"}}), reader,
                          "Microsoft.MachineLearningServices/workspaces/write", WORKSPACE)
        self.assertDenied(arm(reader, "PUT", VAULT + "/accessPolicies/add", policy(reader["object_id"])), reader,
                          "Microsoft.KeyVault/vaults/accessPolicies/write", VAULT + "/accessPolicies/add")
        # role assignments and definitions are readable (*/read)
        r = arm(reader, "GET", f"{VAULT}/providers/Microsoft.Authorization/roleAssignments", api=AUTHZ_API)
        self.assertEqual(r.status, 200, r)

    def test_contributor_manages_resources_but_not_access(self):
        contrib = caller("contrib", "Contributor", f"/subscriptions/{SUB}/resourceGroups/{RG}")
        r = arm(contrib, "PATCH", ACCOUNT, {"tags": {"owner": "contrib"}}, api="2025-06-01")
        self.assertEqual(r.status, 202, r)
        # polling its own long-running operation needs no further grant
        poll = r.header("Azure-AsyncOperation").split("management.azure.com", 1)[1].split("?")[0]
        self.assertEqual(arm(contrib, "GET", poll).status, 200)
        r = arm(contrib, "PUT", VAULT + "/accessPolicies/add", policy(contrib["object_id"]))
        self.assertEqual(r.status, 200, r)
        ra = f"{VAULT}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        self.assertDenied(arm(contrib, "PUT", ra, ra_body(contrib["object_id"]), api=AUTHZ_API), contrib,
                          "Microsoft.Authorization/roleAssignments/write", ra)

    def test_user_access_administrator_creates_role_assignments(self):
        uaa = caller("uaa", "User Access Administrator", f"/subscriptions/{SUB}")
        grantee = caller("grantee")
        ra = f"{VAULT}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        r = arm(uaa, "PUT", ra, ra_body(grantee["object_id"], "acdd72a7-3385-48ef-bd42-f606fba81ae7"), api=AUTHZ_API)
        self.assertEqual(r.status, 201, r)
        # the grantee is now a Reader of the vault (vault scope), and of nothing else
        self.assertEqual(arm(grantee, "GET", VAULT).status, 200)
        self.assertDenied(arm(grantee, "GET", ACCOUNT), grantee, "Microsoft.CognitiveServices/accounts/read", ACCOUNT)
        self.assertEqual(arm(uaa, "DELETE", ra, api=AUTHZ_API).status, 200)
        self.assertDenied(arm(grantee, "GET", VAULT), grantee, "Microsoft.KeyVault/vaults/read", VAULT)
        # User Access Administrator manages access, not resources
        self.assertDenied(arm(uaa, "PATCH", VAULT, {"tags": {}}), uaa, "Microsoft.KeyVault/vaults/write", VAULT)

    def test_inheritance_from_subscription_and_resource_group(self):
        sub_reader = caller("subreader", "Reader", f"/subscriptions/{SUB}")
        rg_reader = caller("rgreader", "Reader", f"/subscriptions/{SUB}/resourceGroups/{RG}")
        sub_list = f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults"
        rg_list = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults"
        for who in (sub_reader, rg_reader):
            self.assertEqual(arm(who, "GET", VAULT).status, 200)
            self.assertEqual(arm(who, "GET", rg_list).status, 200)
        self.assertIn("rbackv", [v["name"] for v in arm(sub_reader, "GET", sub_list).json["value"]])
        # a resource-group assignment does not reach up to the subscription's list
        self.assertDenied(arm(rg_reader, "GET", sub_list), rg_reader, "Microsoft.KeyVault/vaults/read",
                          f"/subscriptions/{SUB}")

    def test_service_contributor_roles_stay_in_their_provider(self):
        kv = caller("kvcontrib", "Key Vault Contributor", VAULT)
        self.assertEqual(arm(kv, "PATCH", VAULT, {"tags": {"by": "kv"}}).status, 200)
        self.assertEqual(arm(kv, "PUT", VAULT + "/accessPolicies/add", policy(kv["object_id"])).status, 200)
        self.assertDenied(arm(kv, "GET", ACCOUNT), kv, "Microsoft.CognitiveServices/accounts/read", ACCOUNT)
        cs = caller("cscontrib", "Cognitive Services Contributor", ACCOUNT)
        self.assertEqual(arm(cs, "PATCH", ACCOUNT, {"tags": {"by": "cs"}}, api="2025-06-01").status, 202)
        self.assertDenied(arm(cs, "GET", VAULT), cs, "Microsoft.KeyVault/vaults/read", VAULT)

    def test_role_definitions_carry_the_real_actions(self):
        reader = caller("defreader", "Reader", f"/subscriptions/{SUB}")
        base = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        kv = arm(reader, "GET", base + "f25e0fa2-a7c8-4377-a976-54943a77a395", api=AUTHZ_API).json["properties"]
        self.assertEqual(kv["roleName"], "Key Vault Contributor")
        self.assertIn("Microsoft.KeyVault/*", kv["permissions"][0]["actions"])
        self.assertIn("Microsoft.KeyVault/locations/deletedVaults/purge/action", kv["permissions"][0]["notActions"])
        cs = arm(reader, "GET", base + "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68", api=AUTHZ_API).json["properties"]
        self.assertEqual(cs["roleName"], "Cognitive Services Contributor")
        self.assertIn("Microsoft.CognitiveServices/*", cs["permissions"][0]["actions"])


class ArmRbacServeFlagTests(unittest.TestCase):
    def test_serve_flag_turns_it_on(self):
        emu = Emulator(["--arm-rbac"]).start()
        try:
            self.assertEqual(emu.admin("arm-rbac"), {"enabled": True})
            ident = emu.admin("add-identity", "--name", "flag")
            tok = emu.token(ident, scope=ARM_SCOPE)
            sub = f"{ARM}/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults?api-version={API}"
            self.assertEqual(emu.request("GET", sub, token=tok).status, 403)
            emu.admin("assign-role", "--scope", f"/subscriptions/{SUB}", "--identity", ident["name"],
                      "--role", "Reader")
            self.assertEqual(emu.request("GET", sub, token=tok).status, 200)
            bad = emu.admin("assign-role", "--scope", "/subscriptions/x/resourceGroups/r/providers/Microsoft.Storage/"
                            "storageAccounts/s", "--identity", ident["name"], "--role", "Reader", check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("InvalidScope", bad.stderr)
        finally:
            emu.cleanup()


if __name__ == "__main__":
    unittest.main()
