#!/usr/bin/python3
"""Foundry projects on the emulated ARM (azkvemu/arm_projects.py):
Microsoft.CognitiveServices/accounts/{a}/projects/{p}, api-version 2025-06-01.

Sources: the REST spec stable/2025-06-01 (cognitiveservices.json; examples CreateProject.json,
GetProject.json, DeleteProject.json: a project's own SystemAssigned identity with its own
principalId, properties displayName/description/endpoints/isDefault, DELETE 202/204) and
@azure/arm-cognitiveservices 8.1.0 (Projects operations; the projectName constraint
^[a-zA-Z0-9][a-zA-Z0-9_.-]*$, 2-64; Account properties allowProjectManagement, defaultProject,
associatedProjects). A project needs an account that allows project management
(Azure/terraform-azurerm-avm-res-cognitiveservices-account#119)."""

import unittest

from emutest import ARM, ARM_SCOPE, CS_API, RG, SUB, Emulator, account_path

EMU = None
W = {}


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["admin"] = EMU.admin("add-identity", "--name", "proj-admin")
    W["tok"] = EMU.token(W["admin"], scope=ARM_SCOPE)
    EMU.admin("add-account", "--name", "projacct", "--identity", "system")
    EMU.admin("add-account", "--name", "plainacct", "--identity", "system")
    r = arm("PATCH", account_path("projacct"), {"properties": {"allowProjectManagement": True}})
    assert r.status == 202, r


def tearDownModule():
    if EMU:
        EMU.cleanup()


def arm(method, path, body=None):
    return EMU.request(method, f"{ARM}{path}?api-version={CS_API}", body=body, token=W["tok"])


def project_path(account, project):
    return f"{account_path(account)}/projects/{project}"


class ProjectTests(unittest.TestCase):
    def test_create_get_list_patch_delete(self):
        r = arm("PUT", project_path("projacct", "alpha"),
                {"location": "eastus", "identity": {"type": "SystemAssigned"},
                 "properties": {"displayName": "Alpha", "description": "first"}})
        self.assertEqual(r.status, 201, r)
        p = r.json
        self.assertEqual(p["type"], "Microsoft.CognitiveServices/accounts/projects")
        self.assertEqual(p["id"], f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                                  "Microsoft.CognitiveServices/accounts/projacct/projects/alpha")
        self.assertEqual(p["location"], "eastus")
        self.assertEqual(p["properties"]["provisioningState"], "Succeeded")
        self.assertEqual(p["properties"]["displayName"], "Alpha")
        self.assertIn("AI Foundry API", p["properties"]["endpoints"])
        # A project's identity is its own: not the account's principal.
        account = arm("GET", account_path("projacct")).json
        self.assertEqual(p["identity"]["type"], "SystemAssigned")
        self.assertNotEqual(p["identity"]["principalId"], account["identity"]["principalId"])
        # The same PUT again updates (200) and keeps the principal.
        again = arm("PUT", project_path("projacct", "alpha"),
                    {"identity": {"type": "SystemAssigned"}, "properties": {"displayName": "Alpha"}})
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json["identity"]["principalId"], p["identity"]["principalId"])

        r = arm("PUT", project_path("projacct", "beta"), {"properties": {}})
        self.assertEqual(r.status, 201, r)
        self.assertNotIn("identity", r.json)
        got = arm("GET", project_path("projacct", "ALPHA"))
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json["name"], "alpha")
        listed = arm("GET", f"{account_path('projacct')}/projects")
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual([x["name"] for x in listed.json["value"]], ["alpha", "beta"])
        self.assertEqual([x["properties"]["isDefault"] for x in listed.json["value"]], [True, False])
        account = arm("GET", account_path("projacct")).json["properties"]
        self.assertEqual(account["associatedProjects"], ["alpha", "beta"])
        self.assertEqual(account["defaultProject"], "alpha")

        patched = arm("PATCH", project_path("projacct", "beta"),
                      {"identity": {"type": "SystemAssigned"}, "properties": {"description": "second"}})
        self.assertEqual(patched.status, 200, patched)
        self.assertIn("principalId", patched.json["identity"])
        self.assertEqual(patched.json["properties"]["description"], "second")

        self.assertEqual(arm("DELETE", project_path("projacct", "alpha")).status, 200)
        self.assertEqual(arm("GET", project_path("projacct", "alpha")).status, 404)
        self.assertEqual(arm("DELETE", project_path("projacct", "alpha")).status, 204)
        # The default moves to the project that is left.
        self.assertTrue(arm("GET", project_path("projacct", "beta")).json["properties"]["isDefault"])
        self.assertEqual(arm("DELETE", project_path("projacct", "beta")).status, 200)

    def test_user_assigned_identity(self):
        uai = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
               "Microsoft.ManagedIdentity/userAssignedIdentities/proj-uai")
        r = arm("PUT", project_path("projacct", "gamma"),
                {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uai: {}}}})
        self.assertEqual(r.status, 201, r)
        ua = r.json["identity"]["userAssignedIdentities"][uai]
        self.assertTrue(ua["principalId"] and ua["clientId"])
        arm("DELETE", project_path("projacct", "gamma"))

    def test_refusals(self):
        missing = arm("PUT", project_path("noacct", "p1"), {"properties": {}})
        self.assertEqual(missing.status, 404, missing)
        self.assertEqual(missing.json["error"]["code"], "ParentResourceNotFound")
        self.assertEqual(arm("GET", f"{account_path('noacct')}/projects").status, 404)
        nope = arm("GET", project_path("projacct", "nope"))
        self.assertEqual(nope.status, 404, nope)
        self.assertEqual(nope.json["error"]["code"], "ResourceNotFound")
        # An account that does not allow project management holds no projects.
        plain = arm("PUT", project_path("plainacct", "p1"), {"properties": {}})
        self.assertEqual(plain.status, 400, plain)
        self.assertIn("allowProjectManagement", plain.json["error"]["message"])
        bad = arm("PUT", project_path("projacct", "-bad"), {"properties": {}})
        self.assertEqual(bad.status, 400, bad)
        elsewhere = arm("PUT", project_path("projacct", "p2"), {"location": "westus", "properties": {}})
        self.assertEqual(elsewhere.status, 400, elsewhere)
        # A project's encryption is its account's.
        enc = arm("PUT", project_path("projacct", "p3"),
                  {"properties": {"encryption": {"keySource": "Microsoft.KeyVault"}}})
        self.assertEqual(enc.status, 400, enc)
        self.assertEqual(arm("GET", project_path("projacct", "p3")).status, 404)

    def test_admin_add_project(self):
        p = EMU.admin("add-project", "--account", "projacct", "--name", "admin-proj")
        self.assertEqual(p["identity"]["type"], "SystemAssigned")
        none = EMU.admin("add-project", "--account", "projacct", "--name", "bare", "--identity", "none")
        self.assertNotIn("identity", none)
        out = EMU.admin("add-project", "--account", "plainacct", "--name", "x", check=False)
        self.assertNotEqual(out.returncode, 0)
        for name in ("admin-proj", "bare"):
            arm("DELETE", project_path("projacct", name))


if __name__ == "__main__":
    unittest.main()
