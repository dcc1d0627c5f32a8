#!/usr/bin/python3
"""The emulated Azure Resource Manager (management.azure.com): Key Vault vaults and
access policies, role assignments and definitions, Cognitive Services accounts
(with the long-running PATCH) and Machine Learning workspaces."""

import unittest
import uuid

from emutest import (ARM, ARM_SCOPE, AUTHZ_API, CS_API, CSEU, KV_API, ML_API, RG, SUB, Emulator,
                     account_path, vault_path, vault_url, workspace_path)

EMU = None
W = {}


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["tenant"] = EMU.admin("show-tenant")
    W["admin"] = EMU.admin("add-identity", "--name", "cmk-admin")
    W["app"] = EMU.admin("add-identity", "--name", "app")
    EMU.admin("add-vault", "--name", "armkv", "--purge-protection")
    EMU.admin("add-vault", "--name", "armrbac", "--rbac")
    EMU.admin("create-key", "--vault", "armkv", "--name", "cmk")
    EMU.admin("create-key", "--vault", "armrbac", "--name", "cmk")
    W["tok"] = EMU.token(W["admin"], scope=ARM_SCOPE)


def tearDownModule():
    if EMU:
        EMU.cleanup()


def arm(method, path, body=None, api=KV_API, token=None, **query):
    parts = ([f"api-version={api}"] if api else []) + [f"{k}={v}" for k, v in query.items()]
    q = "&".join(parts)
    return EMU.request(method, f"{ARM}{path}?{q}", body=body, token=W["tok"] if token is None else token)


class ArmAuthTests(unittest.TestCase):
    def test_no_token(self):
        r = arm("GET", vault_path("armkv"), token="")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json["error"]["code"], "AuthenticationFailed")
        self.assertIn("Bearer", r.header("WWW-Authenticate"))

    def test_vault_token_refused(self):
        tok = EMU.token(W["admin"])
        r = arm("GET", vault_path("armkv"), token=tok)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json["error"]["code"], "InvalidAuthenticationTokenAudience")

    def test_missing_api_version(self):
        r = arm("GET", vault_path("armkv"), api=None)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "MissingApiVersionParameter")

    def test_loopback_by_path(self):
        r = EMU.request("GET", f"https://127.0.0.1:{EMU.port}{vault_path('armkv')}?api-version={KV_API}",
                        token=W["tok"])
        self.assertEqual(r.status, 200, r)


class SovereignCloudTests(unittest.TestCase):
    """Azure China and Azure US Government: their own Entra ID, Resource Manager and vault
    host names and audiences (clouds.py; source: `az cloud show` and Microsoft's developer
    guides for both clouds)."""

    def _token(self, login, scope):
        r = EMU.request("POST", f"https://{login}/{W['admin']['tenant_id']}/oauth2/v2.0/token",
                        form={"grant_type": "client_credentials", "client_id": W["admin"]["client_id"],
                              "client_secret": W["admin"]["client_secret"], "scope": scope})
        self.assertEqual(r.status, 200, r)
        return r.json["access_token"]

    def test_china_vault_takes_a_china_token_and_its_challenge_names_china_entra(self):
        r = EMU.request("GET", "https://armkv.vault.azure.cn/keys/cmk?api-version=7.4")
        self.assertEqual(r.status, 401, r)
        self.assertIn('authorization="https://login.chinacloudapi.cn/', r.header("WWW-Authenticate"))
        self.assertIn('resource="https://vault.azure.cn"', r.header("WWW-Authenticate"))
        EMU.admin("set-policy", "--vault", "armkv", "--identity", W["admin"]["client_id"], "--keys", "get")
        tok = self._token("login.chinacloudapi.cn", "https://vault.azure.cn/.default")
        r = EMU.request("GET", "https://armkv.vault.azure.cn/keys/cmk?api-version=7.4", token=tok)
        self.assertEqual(r.status, 200, r)
        # A public-cloud token is for another audience there.
        r = EMU.request("GET", "https://armkv.vault.azure.cn/keys/cmk?api-version=7.4", token=W["tok"])
        self.assertEqual(r.status, 401, r)

    def test_each_resource_manager_takes_only_its_own_audience(self):
        for login, arm_host, vault_host in (
                ("login.chinacloudapi.cn", "management.chinacloudapi.cn", "vault.azure.cn"),
                ("login.microsoftonline.us", "management.usgovcloudapi.net", "vault.usgovcloudapi.net")):
            tok = self._token(login, f"https://{arm_host}/.default")
            r = EMU.request("GET", f"https://{arm_host}{vault_path('armkv')}?api-version={KV_API}", token=tok)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["properties"]["vaultUri"], f"https://armkv.{vault_host}/")
            r = EMU.request("GET", f"{ARM}{vault_path('armkv')}?api-version={KV_API}", token=tok)
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.json["error"]["code"], "InvalidAuthenticationTokenAudience")
            r = EMU.request("GET", f"https://{arm_host}{vault_path('armkv')}?api-version={KV_API}",
                            token=W["tok"])
            self.assertEqual(r.status, 401, r)
            self.assertIn(f"'https://{arm_host}'", r.json["error"]["message"])


class VaultTests(unittest.TestCase):
    def test_get(self):
        r = arm("GET", vault_path("armkv"))
        self.assertEqual(r.status, 200, r)
        v = r.json
        self.assertEqual(v["id"], vault_path("armkv"))
        self.assertEqual(v["type"], "Microsoft.KeyVault/vaults")
        self.assertEqual(v["location"], "eastus")
        p = v["properties"]
        self.assertEqual(p["tenantId"], W["tenant"]["tenant_id"])
        self.assertEqual(p["sku"], {"family": "A", "name": "premium"})
        self.assertTrue(p["enableSoftDelete"])
        self.assertEqual(p["softDeleteRetentionInDays"], 90)
        self.assertTrue(p["enablePurgeProtection"])
        self.assertFalse(p["enableRbacAuthorization"])
        self.assertEqual(p["vaultUri"], "https://armkv.vault.azure.net/")
        self.assertEqual(p["networkAcls"]["bypass"], "AzureServices")
        self.assertEqual(p["networkAcls"]["defaultAction"], "Allow")
        self.assertIsInstance(p["accessPolicies"], list)

    def test_purge_protection_omitted_when_off(self):
        r = arm("GET", vault_path("armrbac"))
        self.assertNotIn("enablePurgeProtection", r.json["properties"])
        self.assertTrue(r.json["properties"]["enableRbacAuthorization"])

    def test_unknown_vault(self):
        r = arm("GET", vault_path("nosuchvault"))
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json["error"]["code"], "ResourceNotFound")

    def test_put_creates_then_patch(self):
        body = {"location": "westeurope", "properties": {
            "tenantId": W["tenant"]["tenant_id"], "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [], "enableRbacAuthorization": True,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny"}}}
        r = arm("PUT", vault_path("armnew"), body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["properties"]["sku"]["name"], "standard")
        self.assertEqual(r.json["properties"]["networkAcls"]["defaultAction"], "Deny")
        # the vault exists in the data plane now (TLS handshake accepted, 401 without a token)
        self.assertEqual(EMU.request("GET", vault_url("armnew", "/keys")).status, 401)
        r = arm("PATCH", vault_path("armnew"), {"properties": {"enablePurgeProtection": True}})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["properties"]["enablePurgeProtection"])
        r = arm("PATCH", vault_path("armnew"), {"properties": {"enablePurgeProtection": False}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("irreversible", r.json["error"]["message"])

    def test_list_vaults_in_subscription_and_resource_group(self):
        for path in (f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults",
                     f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults"):
            r = arm("GET", path)
            self.assertEqual(r.status, 200, r)
            by_uri = {v["properties"]["vaultUri"]: v["id"] for v in r.json["value"]}
            self.assertEqual(by_uri["https://armkv.vault.azure.net/"], vault_path("armkv"))
        r = arm("GET", f"/subscriptions/{SUB}/resourceGroups/other-rg/providers/Microsoft.KeyVault/vaults")
        self.assertEqual((r.status, r.json["value"]), (200, []))
        r = arm("GET", "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.KeyVault/vaults")
        self.assertEqual(r.json["value"], [])

    def test_list_vaults_pages_with_top(self):
        path = f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults"
        everything = [v["name"] for v in arm("GET", path).json["value"]]
        self.assertNotIn("nextLink", arm("GET", path).json)
        r = arm("GET", path, **{"$top": "1"})
        self.assertEqual([v["name"] for v in r.json["value"]], everything[:1])
        link = r.json["nextLink"]
        self.assertTrue(link.startswith(f"{ARM}{path}?api-version={KV_API}&$skiptoken="), link)
        r = EMU.request("GET", link, token=W["tok"])
        self.assertEqual([v["name"] for v in r.json["value"]], everything[1:])
        self.assertNotIn("nextLink", r.json)

    def test_access_policy_add_replace_remove_feeds_data_plane(self):
        oid = W["app"]["object_id"]
        tid = W["tenant"]["tenant_id"]
        pol = lambda keys: {"properties": {"accessPolicies": [  # noqa: E731
            {"tenantId": tid, "objectId": oid, "permissions": {"keys": keys}}]}}
        r = arm("PUT", vault_path("armkv") + "/accessPolicies/add", pol(["get", "wrapKey"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["type"], "Microsoft.KeyVault/vaults/accessPolicies")
        arm("PUT", vault_path("armkv") + "/accessPolicies/add", pol(["unwrapKey"]))
        got = [p for p in arm("GET", vault_path("armkv")).json["properties"]["accessPolicies"]
               if p["objectId"] == oid][0]
        self.assertEqual(got["permissions"]["keys"], ["get", "wrapKey", "unwrapKey"])
        self.assertEqual(got["tenantId"], tid)
        # data plane honours it
        kvtok = EMU.token(W["app"])
        r = EMU.request("GET", vault_url("armkv", "/keys/cmk"), token=kvtok)
        self.assertEqual(r.status, 200, r)
        arm("PUT", vault_path("armkv") + "/accessPolicies/remove", pol(["get"]))
        r = EMU.request("GET", vault_url("armkv", "/keys/cmk"), token=kvtok)
        self.assertEqual(r.status, 403, r)
        arm("PUT", vault_path("armkv") + "/accessPolicies/replace", pol(["get"]))
        got = [p for p in arm("GET", vault_path("armkv")).json["properties"]["accessPolicies"]
               if p["objectId"] == oid][0]
        self.assertEqual(got["permissions"]["keys"], ["get"])
        arm("PUT", vault_path("armkv") + "/accessPolicies/remove", pol(["get"]))
        self.assertFalse([p for p in arm("GET", vault_path("armkv")).json["properties"]["accessPolicies"]
                          if p["objectId"] == oid])


class RoleTests(unittest.TestCase):
    def ra_path(self, name, key=None):
        scope = vault_path("armrbac") + (f"/keys/{key}" if key else "")
        return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"

    def test_role_definition(self):
        r = arm("GET", f"{vault_path('armrbac')}/providers/Microsoft.Authorization/roleDefinitions/{CSEU}",
                api=AUTHZ_API)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["properties"]["roleName"], "Key Vault Crypto Service Encryption User")
        self.assertEqual(r.json["properties"]["type"], "BuiltInRole")
        self.assertIn("Microsoft.KeyVault/vaults/keys/unwrap/action",
                      r.json["properties"]["permissions"][0]["dataActions"])
        r = arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions",
                api=AUTHZ_API, **{"$filter": "roleName%20eq%20'Key%20Vault%20Crypto%20User'"})
        self.assertEqual([d["name"] for d in r.json["value"]], ["12338af0-0e69-4776-bea7-57ae8d297424"])

    def test_assignment_at_key_scope_feeds_rbac(self):
        kvtok = EMU.token(W["app"])
        r = EMU.request("POST", vault_url("armrbac", "/keys/cmk/wrapkey"), token=kvtok,
                        body={"alg": "RSA-OAEP", "value": "AAAA"})
        self.assertEqual(r.status, 403, r)
        name = str(uuid.uuid4())
        body = {"properties": {
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{CSEU}",
            "principalId": W["app"]["object_id"], "principalType": "ServicePrincipal"}}
        r = arm("PUT", self.ra_path(name, "cmk"), body, api=AUTHZ_API)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["name"], name)
        self.assertEqual(r.json["properties"]["scope"], vault_path("armrbac") + "/keys/cmk")
        r = EMU.request("POST", vault_url("armrbac", "/keys/cmk/wrapkey"), token=kvtok,
                        body={"alg": "RSA-OAEP", "value": "AAAA"})
        self.assertEqual(r.status, 200, r)
        # same grant under another name: conflict
        r = arm("PUT", self.ra_path(str(uuid.uuid4()), "cmk"), body, api=AUTHZ_API)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "RoleAssignmentExists")
        self.assertEqual(arm("GET", self.ra_path(name, "cmk"), api=AUTHZ_API).status, 200)
        # lists: below the vault without a filter, not with atScope()
        listing = f"{vault_path('armrbac')}/providers/Microsoft.Authorization/roleAssignments"
        names = [a["name"] for a in arm("GET", listing, api=AUTHZ_API).json["value"]]
        self.assertIn(name, names)
        names = [a["name"] for a in arm("GET", listing, api=AUTHZ_API, **{"$filter": "atScope()"}).json["value"]]
        self.assertNotIn(name, names)
        names = [a["name"] for a in arm("GET", listing, api=AUTHZ_API, **{
            "$filter": f"principalId%20eq%20'{W['app']['object_id']}'"}).json["value"]]
        self.assertEqual(names, [name])
        self.assertEqual(arm("DELETE", self.ra_path(name, "cmk"), api=AUTHZ_API).status, 200)
        self.assertEqual(arm("DELETE", self.ra_path(name, "cmk"), api=AUTHZ_API).status, 204)
        r = EMU.request("POST", vault_url("armrbac", "/keys/cmk/wrapkey"), token=kvtok,
                        body={"alg": "RSA-OAEP", "value": "AAAA"})
        self.assertEqual(r.status, 403, r)

    def test_unknown_principal_and_role(self):
        body = {"properties": {"roleDefinitionId": CSEU, "principalId": str(uuid.uuid4())}}
        r = arm("PUT", self.ra_path(str(uuid.uuid4())), body, api=AUTHZ_API)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "PrincipalNotFound")
        body = {"properties": {"roleDefinitionId": str(uuid.uuid4()), "principalId": W["app"]["object_id"]}}
        r = arm("PUT", self.ra_path(str(uuid.uuid4())), body, api=AUTHZ_API)
        self.assertEqual(r.json["error"]["code"], "RoleDefinitionDoesNotExist")


class ScopeRoleTests(unittest.TestCase):
    """Role assignments above the vault: subscription and resource group scope."""

    def ra(self, scope, name):
        return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"

    def body(self, principal, role=CSEU):
        return {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                               f"roleDefinitions/{role}", "principalId": principal}}

    def wrap(self, tok):
        return EMU.request("POST", vault_url("armrbac", "/keys/cmk/wrapkey"), token=tok,
                           body={"alg": "RSA-OAEP", "value": "AAAA"})

    def test_subscription_and_rg_scope_inherit_to_vault_keys(self):
        ident = EMU.admin("add-identity", "--name", "inherit-sp")
        kvtok = EMU.token(ident)
        self.assertEqual(self.wrap(kvtok).status, 403)
        for scope in (f"/subscriptions/{SUB}", f"/subscriptions/{SUB}/resourceGroups/{RG}"):
            name = str(uuid.uuid4())
            r = arm("PUT", self.ra(scope, name), self.body(ident["object_id"]), api=AUTHZ_API)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["properties"]["scope"], scope)
            self.assertEqual(r.json["id"], self.ra(scope, name))
            self.assertEqual(self.wrap(kvtok).status, 200)
            self.assertEqual(arm("GET", self.ra(scope, name), api=AUTHZ_API).status, 200)
            # listed at key scope with a principal filter and with atScope(): inherited from above
            key_scope = vault_path("armrbac") + "/keys/cmk"
            for flt in (f"principalId%20eq%20'{ident['object_id']}'", "atScope()"):
                got = arm("GET", f"{key_scope}/providers/Microsoft.Authorization/roleAssignments",
                          api=AUTHZ_API, **{"$filter": flt}).json["value"]
                self.assertIn(name, [a["name"] for a in got])
            # the same grant again: conflict
            r = arm("PUT", self.ra(scope, str(uuid.uuid4())), self.body(ident["object_id"]), api=AUTHZ_API)
            self.assertEqual((r.status, r.json["error"]["code"]), (409, "RoleAssignmentExists"))
            # DELETE by its full id
            r = EMU.request("DELETE", f"{ARM}{self.ra(scope, name)}?api-version={AUTHZ_API}",
                            token=W["tok"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(arm("GET", self.ra(scope, name), api=AUTHZ_API).status, 404)
            self.assertEqual(self.wrap(kvtok).status, 403)

    def test_subscription_listing_includes_vault_assignments_below(self):
        ident = EMU.admin("add-identity", "--name", "below-sp")
        name = str(uuid.uuid4())
        r = arm("PUT", self.ra(vault_path("armrbac"), name), self.body(ident["object_id"]), api=AUTHZ_API)
        self.assertEqual(r.status, 201, r)
        listing = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments"
        self.assertIn(name, [a["name"] for a in arm("GET", listing, api=AUTHZ_API).json["value"]])
        names = [a["name"] for a in arm("GET", listing, api=AUTHZ_API, **{"$filter": "atScope()"}).json["value"]]
        self.assertNotIn(name, names)
        self.assertEqual(arm("DELETE", self.ra(vault_path("armrbac"), name), api=AUTHZ_API).status, 200)

    def test_general_roles_have_no_data_actions(self):
        ident = EMU.admin("add-identity", "--name", "owner-sp")
        for role, rname in (("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"),
                            ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
                            ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader"),
                            ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator")):
            r = arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                    api=AUTHZ_API)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["properties"]["roleName"], rname)
            self.assertEqual(r.json["properties"]["permissions"][0]["dataActions"], [])
            self.assertTrue(r.json["properties"]["permissions"][0]["actions"])
        r = arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
                "b24988ac-6180-42a0-ab88-20f7382dd24c", api=AUTHZ_API)
        self.assertIn("Microsoft.Authorization/*/Write", r.json["properties"]["permissions"][0]["notActions"])
        # an Owner of the subscription holds no Key Vault data action
        name = str(uuid.uuid4())
        scope = f"/subscriptions/{SUB}"
        r = arm("PUT", self.ra(scope, name), self.body(ident["object_id"], "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
                api=AUTHZ_API)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.wrap(EMU.token(ident)).status, 403)
        arm("DELETE", self.ra(scope, name), api=AUTHZ_API)

    def test_other_scopes_refused(self):
        r = arm("PUT", self.ra(f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/"
                               "storageAccounts/sa1", str(uuid.uuid4())), self.body(W["app"]["object_id"]),
                api=AUTHZ_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "InvalidScope"))


class AccountTests(unittest.TestCase):
    def path(self, name):
        return account_path(name)

    def test_cmk_needs_an_identity(self):
        arm("PUT", self.path("foundry3"), {"location": "eastus", "kind": "AIServices"}, api=CS_API)
        r = arm("PATCH", self.path("foundry3"), {"properties": {"encryption": {
            "keySource": "Microsoft.KeyVault", "keyVaultProperties": {
                "keyName": "cmk", "keyVaultUri": "https://armkv.vault.azure.net/"}}}}, api=CS_API)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "MissingIdentity")

    def test_admin_account_with_system_identity(self):
        acct = EMU.admin("add-account", "--name", "foundry1", "--identity", "system")
        self.assertEqual(acct["identity"]["type"], "SystemAssigned")
        r = arm("GET", self.path("foundry1"), api=CS_API)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["identity"]["principalId"], acct["identity"]["principalId"])
        self.assertEqual(r.json["identity"]["tenantId"], W["tenant"]["tenant_id"])
        ids = [i["object_id"] for i in EMU.admin("list-identities")["value"]]
        self.assertIn(acct["identity"]["principalId"], ids)

    def test_put_patch_lro_and_no_way_back(self):
        r = arm("PUT", self.path("foundry2"), {"location": "eastus", "kind": "AIServices", "sku": {"name": "S0"},
                                               "identity": {"type": "SystemAssigned"},
                                               "properties": {"customSubDomainName": "foundry2"}}, api=CS_API)
        self.assertEqual(r.status, 201, r)
        enc = {"keySource": "Microsoft.KeyVault", "keyVaultProperties": {
            "keyName": "cmk", "keyVaultUri": "https://armkv.vault.azure.net/"}}
        # the identity must be granted first
        r = arm("PATCH", self.path("foundry2"), {"properties": {"encryption": enc}}, api=CS_API)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "KeyVaultAccessForbidden")
        principal = arm("GET", self.path("foundry2"), api=CS_API).json["identity"]["principalId"]
        EMU.admin("set-policy", "--vault", "armkv", "--identity", principal, "--keys", "get,wrapKey,unwrapKey")
        r = arm("PATCH", self.path("foundry2"), {"properties": {"encryption": enc}}, api=CS_API)
        self.assertEqual(r.status, 202, r)
        op = r.header("Azure-AsyncOperation")
        self.assertTrue(op.startswith("https://management.azure.com/subscriptions/"), op)
        st = EMU.request("GET", op, token=W["tok"])
        self.assertEqual(st.json["status"], "Succeeded", st)
        res = EMU.request("GET", r.header("Location"), token=W["tok"])
        self.assertEqual(res.json["properties"]["encryption"], enc, res)
        got = arm("GET", self.path("foundry2"), api=CS_API).json
        self.assertEqual(got["properties"]["encryption"], enc)
        self.assertEqual(got["properties"]["provisioningState"], "Succeeded")
        r = arm("PATCH", self.path("foundry2"),
                {"properties": {"encryption": {"keySource": "Microsoft.CognitiveServices"}}}, api=CS_API)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "CustomerManagedKeyCannotBeReverted")
        r = arm("PATCH", self.path("foundry2"), {"properties": {"encryption": {
            "keySource": "Microsoft.KeyVault", "keyVaultProperties": {
                "keyName": "nokey", "keyVaultUri": "https://armkv.vault.azure.net/"}}}}, api=CS_API)
        self.assertEqual(r.status, 400, r)


class WorkspaceTests(unittest.TestCase):
    def path(self, name):
        return workspace_path(name)

    def test_encryption_fixed_at_creation(self):
        enc = {"status": "Enabled", "keyVaultProperties": {
            "keyVaultArmId": vault_path("armkv"), "keyIdentifier": "https://armkv.vault.azure.net/keys/cmk",
            "identityClientId": ""}}
        r = arm("PUT", self.path("hub1"), {"location": "eastus", "kind": "Hub", "identity": {"type": "SystemAssigned"},
                                           "properties": {"encryption": enc}}, api=ML_API)
        self.assertEqual(r.status, 201, r)
        got = arm("GET", self.path("hub1"), api=ML_API).json
        self.assertEqual(got["properties"]["encryption"]["keyVaultProperties"]["keyIdentifier"],
                         "https://armkv.vault.azure.net/keys/cmk")
        r = arm("PUT", self.path("hub1"), {"location": "eastus", "properties": {"encryption": {"status": "Disabled"}}},
                api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "EncryptionCannotBeUpdated"), r)
        r = arm("PUT", self.path("hub1"), {"location": "eastus", "tags": {"a": "b"}}, api=ML_API)
        self.assertEqual(r.status, 200, r)
        # Microsoft-managed at creation: no way to CMK later
        r = arm("PUT", self.path("plainws"), {"location": "eastus"}, api=ML_API)
        self.assertEqual(r.status, 201, r)
        r = arm("PATCH", self.path("plainws"), {"properties": {"encryption": enc}}, api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "EncryptionCannotBeUpdated"), r)
        self.assertNotIn("encryption", arm("GET", self.path("plainws"), api=ML_API).json["properties"])

    def test_rotation_same_vault_with_grant(self):
        EMU.admin("create-key", "--vault", "armkv", "--name", "wsrot1")
        v2 = EMU.admin("create-key", "--vault", "armkv", "--name", "wsrot2")["key"]["kid"].rsplit("/", 1)[1]
        enc = {"status": "Enabled", "keyVaultProperties": {
            "keyVaultArmId": vault_path("armkv"), "keyIdentifier": "https://armkv.vault.azure.net/keys/wsrot1"}}
        r = arm("PUT", self.path("hubrot"), {"location": "eastus", "kind": "Hub",
                                             "identity": {"type": "SystemAssigned"},
                                             "properties": {"encryption": enc}}, api=ML_API)
        self.assertEqual(r.status, 201, r)
        principal = r.json["identity"]["principalId"]
        new_kid = f"https://armkv.vault.azure.net/keys/wsrot2/{v2}"
        patch = {"properties": {"encryption": {"keyVaultProperties": {"keyIdentifier": new_kid}}}}
        # rotation checks the workspace identity's grant
        r = arm("PATCH", self.path("hubrot"), patch, api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultAccessForbidden"), r)
        EMU.admin("set-policy", "--vault", "armkv", "--identity", principal, "--keys", "get,wrapKey,unwrapKey")
        r = arm("PATCH", self.path("hubrot"), patch, api=ML_API)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["properties"]["encryption"]["keyVaultProperties"]["keyIdentifier"], new_kid)
        self.assertEqual(r.json["properties"]["encryption"]["status"], "Enabled")
        # a missing key, and another vault, are refused; the key stays as it was
        r = arm("PATCH", self.path("hubrot"), {"properties": {"encryption": {"keyVaultProperties": {
            "keyIdentifier": "https://armkv.vault.azure.net/keys/nokey"}}}}, api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyNotFound"), r)
        other = dict(enc["keyVaultProperties"], keyVaultArmId=vault_path("armrbac"),
                     keyIdentifier="https://armrbac.vault.azure.net/keys/cmk")
        r = arm("PUT", self.path("hubrot"), {"location": "eastus", "properties": {"encryption": {
            "status": "Enabled", "keyVaultProperties": other}}}, api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultCannotBeChanged"), r)
        got = arm("GET", self.path("hubrot"), api=ML_API).json["properties"]["encryption"]
        self.assertEqual(got["keyVaultProperties"]["keyIdentifier"], new_kid)

    def test_project_inherits_hub_encryption(self):
        enc = {"status": "Enabled", "keyVaultProperties": {
            "keyVaultArmId": vault_path("armkv"), "keyIdentifier": "https://armkv.vault.azure.net/keys/cmk"}}
        r = arm("PUT", self.path("hubp"), {"location": "eastus", "kind": "Hub",
                                           "properties": {"encryption": enc}}, api=ML_API)
        self.assertEqual(r.status, 201, r)
        r = arm("PUT", self.path("proj-p"), {"location": "eastus", "kind": "Project",
                                             "properties": {"hubResourceId": self.path("hubp")}}, api=ML_API)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["properties"]["encryption"]["keyVaultProperties"]["keyIdentifier"],
                         enc["keyVaultProperties"]["keyIdentifier"])
        self.assertEqual(r.json["properties"]["hubResourceId"], self.path("hubp"))
        r = arm("PATCH", self.path("proj-p"), {"properties": {"encryption": {"keyVaultProperties": {
            "keyIdentifier": "https://armkv.vault.azure.net/keys/other"}}}}, api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "ProjectEncryptionInheritedFromHub"), r)
        r = arm("PUT", self.path("proj-q"), {"location": "eastus", "kind": "Project",
                                             "properties": {"hubResourceId": self.path("nohub")}}, api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "HubNotFound"), r)

    def test_user_assigned_identity_checked_at_creation(self):
        uai = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ws-uai"
        mi = EMU.admin("add-identity", "--name", "ws-uai", "--managed")
        enc = {"status": "Enabled", "identity": {"userAssignedIdentity": uai}, "keyVaultProperties": {
            "keyVaultArmId": vault_path("armkv"), "keyIdentifier": "https://armkv.vault.azure.net/keys/cmk"}}
        body = {"location": "eastus", "identity": {"type": "UserAssigned", "userAssignedIdentities": {uai: {}}},
                "properties": {"encryption": enc}}
        r = arm("PUT", self.path("hubuai"), body, api=ML_API)
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultAccessForbidden"), r)
        self.assertEqual(arm("GET", self.path("hubuai"), api=ML_API).status, 404)
        EMU.admin("set-policy", "--vault", "armkv", "--identity", mi["object_id"], "--keys", "get,wrapKey,unwrapKey")
        self.assertEqual(arm("PUT", self.path("hubuai"), body, api=ML_API).status, 201)

    def test_admin_workspace(self):
        ws = EMU.admin("add-workspace", "--name", "proj1", "--key-vault-arm-id", vault_path("armkv"),
                       "--key-identifier", "https://armkv.vault.azure.net/keys/cmk")
        self.assertEqual(ws["properties"]["encryption"]["status"], "Enabled")
        self.assertEqual(arm("GET", self.path("proj1"), api=ML_API).status, 200)


if __name__ == "__main__":
    unittest.main()


class ImdsTests(unittest.TestCase):
    def imds(self, headers=None, **query):
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return EMU.request("GET", f"https://127.0.0.1:{EMU.port}/metadata/identity/oauth2/token?{q}",
                           headers={"Metadata": "true"} if headers is None else headers)

    def test_account_identity_gets_a_vault_token(self):
        acct = EMU.admin("add-account", "--name", "foundry-mi", "--identity", "system")
        oid = acct["identity"]["principalId"]
        r = self.imds(**{"api-version": "2018-02-01", "resource": "https://vault.azure.net", "object_id": oid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["token_type"], "Bearer")
        self.assertEqual(r.json["resource"], "https://vault.azure.net")
        self.assertIsInstance(r.json["expires_on"], str)
        # the token works on the data plane once the identity is granted
        EMU.admin("set-policy", "--vault", "armkv", "--identity", oid, "--keys", "get,wrapKey,unwrapKey")
        got = EMU.request("GET", vault_url("armkv", "/keys/cmk"), token=r.json["access_token"])
        self.assertEqual(got.status, 200, got)
        client_id = r.json["client_id"]
        r = self.imds(**{"api-version": "2018-02-01", "resource": "https://management.azure.com/",
                         "client_id": client_id})
        self.assertEqual(r.status, 200, r)

    def test_default_identity_and_errors(self):
        mi = EMU.admin("add-identity", "--name", "vm-identity", "--managed")
        q = {"api-version": "2018-02-01", "resource": "https://vault.azure.net"}
        r = self.imds(**q)
        self.assertEqual((r.status, r.json["error_description"]), (400, "Identity not found"), r)
        EMU.admin("imds-identity", "--identity", "vm-identity")
        r = self.imds(**q)
        self.assertEqual(r.json["client_id"], mi["client_id"], r)
        r = self.imds(headers={}, **q)
        self.assertEqual((r.status, r.json["error_description"]), (400, "Required metadata header not specified"))
        # an app registration is no managed identity
        r = self.imds(client_id=W["app"]["client_id"], **q)
        self.assertEqual(r.status, 400, r)
        r = EMU.request("GET", f"https://127.0.0.1:{EMU.port}/metadata/identity/oauth2/token?"
                        "api-version=2018-02-01&resource=https://vault.azure.net",
                        headers={"Metadata": "true", "Host": "169.254.169.254"})
        self.assertEqual(r.status, 200, r)
