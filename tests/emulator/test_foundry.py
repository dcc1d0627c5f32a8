#!/usr/bin/python3
"""Foundry customer-managed keys: the binding rules Azure enforces on a Cognitive
Services account, the account's data key wrapped through the vault as its
identity, the admin view of it (account-cmk), and the files data plane on
NAME.cognitiveservices.azure.com that stops when the key is revoked."""

import os
import time
import unittest
import uuid

from emutest import ARM, ARM_SCOPE, AUTHZ_API, CS_API, CSEU, KV_API, RG, SUB, Emulator, vault_url
from emutest import account_path as acct_path, vault_path

EMU = None
W = {}
OAI_API = "2024-10-21"


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["admin"] = EMU.admin("add-identity", "--name", "foundry-admin")
    W["user"] = EMU.admin("add-identity", "--name", "foundry-user")
    W["owner"] = EMU.admin("add-identity", "--name", "key-owner")
    W["tok"] = EMU.token(W["admin"], scope=ARM_SCOPE)
    W["cstok"] = EMU.token(W["user"], scope="https://cognitiveservices.azure.com/.default")
    EMU.admin("add-vault", "--name", "fkv", "--purge-protection")
    EMU.admin("set-policy", "--vault", "fkv", "--identity", "key-owner", "--keys", "all")


def tearDownModule():
    if EMU:
        EMU.cleanup()


def arm(method, path, body=None, api=CS_API):
    return EMU.request(method, f"{ARM}{path}?api-version={api}", body=body, token=W["tok"])


def key(vault, name, **opts):
    body = {"name": name}
    body.update(opts)
    return EMU.admin_api("POST", f"/vaults/{vault}/keys", body)


def account(name, location="eastus"):
    r = arm("PUT", acct_path(name), {"location": location, "kind": "AIServices", "sku": {"name": "S0"},
                                     "identity": {"type": "SystemAssigned"},
                                     "properties": {"customSubDomainName": name}})
    assert r.status == 201, r
    return r.json["identity"]["principalId"]


def grant(vault, principal):
    EMU.admin_api("PUT", f"/vaults/{vault}/access-policies/{principal}", {"keys": ["get", "wrapKey", "unwrapKey"]})


def bind(name, vault, key_name, version=None):
    kvp = {"keyName": key_name, "keyVaultUri": f"https://{vault}.vault.azure.net/"}
    if version:
        kvp["keyVersion"] = version
    return arm("PATCH", acct_path(name), {"properties": {"encryption": {
        "keySource": "Microsoft.KeyVault", "keyVaultProperties": kvp}}})


def cmk(name):
    return EMU.admin_api("GET", f"/accounts/{name}/cmk")


def files(name, method="GET", path="", body=None, token=None, api=OAI_API, headers=None):
    url = f"https://{name}.cognitiveservices.azure.com/openai/files{path}"
    if api:
        url += ("&" if "?" in url else "?") + f"api-version={api}"
    return EMU.request(method, url, body=body, token=W["cstok"] if token is None else token, headers=headers)


def upload(name, text, filename="train.jsonl"):
    return files(name, "POST", body={"filename": filename, "content": text, "purpose": "fine-tune"})


class BindingRuleTests(unittest.TestCase):
    def assertRefused(self, reply, code, acct):
        self.assertEqual(reply.status, 400, reply)
        self.assertEqual(reply.json["error"]["code"], code, reply)
        self.assertTrue(reply.json["error"]["message"])
        # nothing changed
        self.assertNotIn("encryption", arm("GET", acct_path(acct)).json["properties"])
        self.assertEqual(cmk(acct)["keySource"], "Microsoft.CognitiveServices")

    def test_vault_needs_soft_delete_and_purge_protection(self):
        principal = account("rule-pp")
        EMU.admin("add-vault", "--name", "nopp")
        key("nopp", "k")
        grant("nopp", principal)
        r = bind("rule-pp", "nopp", "k")
        self.assertRefused(r, "KeyVaultSoftDeleteAndPurgeProtectionRequired", "rule-pp")
        self.assertIn("purge protection", r.json["error"]["message"])
        EMU.admin("add-vault", "--name", "nosd", "--no-soft-delete", "--purge-protection")
        key("nosd", "k")
        grant("nosd", principal)
        r = bind("rule-pp", "nosd", "k")
        self.assertRefused(r, "KeyVaultSoftDeleteAndPurgeProtectionRequired", "rule-pp")
        self.assertIn("soft delete", r.json["error"]["message"])

    def test_refused_request_leaves_no_identity_behind(self):
        # A PUT that creates a system-assigned identity and is refused for its
        # encryption must not leave that identity in the directory.
        EMU.admin("add-vault", "--name", "noppid")
        key("noppid", "k")
        before = len(EMU.admin("list-identities")["value"])
        r = arm("PUT", acct_path("rule-noident"), {
            "location": "eastus", "kind": "AIServices", "sku": {"name": "S0"},
            "identity": {"type": "SystemAssigned"},
            "properties": {"encryption": {"keySource": "Microsoft.KeyVault", "keyVaultProperties": {
                "keyName": "k", "keyVaultUri": "https://noppid.vault.azure.net/"}}}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(len(EMU.admin("list-identities")["value"]), before)
        self.assertEqual(arm("GET", acct_path("rule-noident")).status, 404)

    def test_same_region_compared_without_case_or_spaces(self):
        principal = account("rule-region")
        EMU.admin("add-vault", "--name", "westkv", "--purge-protection", "--location", "westeurope")
        key("westkv", "k")
        grant("westkv", principal)
        self.assertRefused(bind("rule-region", "westkv", "k"), "KeyVaultRegionMismatch", "rule-region")
        principal = account("rule-region2", location="West Europe")
        grant("westkv", principal)
        self.assertEqual(bind("rule-region2", "westkv", "k").status, 202)

    def test_same_tenant(self):
        principal = account("rule-tenant")
        EMU.admin("add-tenant", "--name", "othertenant")
        EMU.admin("add-vault", "--name", "otherkv", "--purge-protection", "--tenant", "othertenant")
        key("otherkv", "k")
        grant("otherkv", principal)
        self.assertRefused(bind("rule-tenant", "otherkv", "k"), "KeyVaultTenantMismatch", "rule-tenant")

    def test_key_type_and_size(self):
        principal = account("rule-kty")
        grant("fkv", principal)
        key("fkv", "ec", kty="EC", crv="P-256")
        key("fkv", "rsa3072", size=3072)
        key("fkv", "rsa4096", size=4096)
        self.assertRefused(bind("rule-kty", "fkv", "ec"), "KeyTypeNotSupported", "rule-kty")
        self.assertRefused(bind("rule-kty", "fkv", "rsa3072"), "KeySizeNotSupported", "rule-kty")
        self.assertRefused(bind("rule-kty", "fkv", "rsa4096"), "KeySizeNotSupported", "rule-kty")
        key("fkv", "hsm2048", kty="RSA-HSM", size=2048)
        self.assertEqual(bind("rule-kty", "fkv", "hsm2048").status, 202)

    def test_key_state_and_ops(self):
        principal = account("rule-state")
        grant("fkv", principal)
        key("fkv", "off", disabled=True)
        key("fkv", "old", exp=int(time.time()) - 60)
        key("fkv", "later", nbf=int(time.time()) + 3600)
        key("fkv", "noops", ops=["encrypt", "decrypt", "wrapKey"])
        self.assertRefused(bind("rule-state", "fkv", "off"), "KeyDisabled", "rule-state")
        self.assertRefused(bind("rule-state", "fkv", "old"), "KeyExpired", "rule-state")
        self.assertRefused(bind("rule-state", "fkv", "later"), "KeyNotYetValid", "rule-state")
        r = bind("rule-state", "fkv", "noops")
        self.assertRefused(r, "KeyOperationsNotAllowed", "rule-state")
        self.assertIn("unwrapKey", r.json["error"]["message"])
        # a named version is checked, not the latest
        v1 = key("fkv", "versioned", disabled=True)["key"]["kid"].rsplit("/", 1)[1]
        key("fkv", "versioned")
        self.assertRefused(bind("rule-state", "fkv", "versioned", v1), "KeyDisabled", "rule-state")

    def test_firewall_must_let_trusted_services_in(self):
        principal = account("rule-net")
        EMU.admin("add-vault", "--name", "fwkv", "--purge-protection")
        key("fwkv", "k")
        grant("fwkv", principal)
        tid = EMU.admin("show-tenant")["tenant_id"]
        base = {"tenantId": tid, "sku": {"family": "A", "name": "premium"}}

        def acls(**props):
            r = arm("PATCH", vault_path("fwkv"), {"properties": dict(base, **props)}, api=KV_API)
            self.assertEqual(r.status, 200, r)
        acls(networkAcls={"defaultAction": "Deny", "bypass": "None"})
        self.assertRefused(bind("rule-net", "fwkv", "k"), "KeyVaultNetworkAccessDenied", "rule-net")
        acls(networkAcls={"defaultAction": "Allow", "bypass": "None"}, publicNetworkAccess="Disabled")
        self.assertRefused(bind("rule-net", "fwkv", "k"), "KeyVaultNetworkAccessDenied", "rule-net")
        acls(networkAcls={"defaultAction": "Deny", "bypass": "AzureServices"})
        self.assertEqual(bind("rule-net", "fwkv", "k").status, 202)

    def test_grant_is_checked_last_and_identity_first(self):
        account("rule-grant")
        key("fkv", "ungranted")
        # an account of its own: its principal has no grant on fkv
        r = bind("rule-grant", "fkv", "ungranted")
        self.assertRefused(r, "KeyVaultAccessForbidden", "rule-grant")
        arm("PUT", acct_path("rule-noid"), {"location": "eastus", "kind": "AIServices"})
        self.assertEqual(bind("rule-noid", "fkv", "ungranted").json["error"]["code"], "MissingIdentity")

    def test_rebind_same_vault_only_and_no_way_back(self):
        principal = account("rule-vault")
        grant("fkv", principal)
        key("fkv", "first")
        key("fkv", "second")
        EMU.admin("add-vault", "--name", "fkv2", "--purge-protection")
        key("fkv2", "k")
        grant("fkv2", principal)
        self.assertEqual(bind("rule-vault", "fkv", "first").status, 202)
        r = bind("rule-vault", "fkv2", "k")
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "KeyVaultCannotBeChanged"), r)
        self.assertEqual(arm("GET", acct_path("rule-vault")).json["properties"]["encryption"]
                         ["keyVaultProperties"]["keyName"], "first")
        self.assertEqual(bind("rule-vault", "fkv", "second").status, 202)
        self.assertEqual(cmk("rule-vault")["kid"].split("/keys/")[1].split("/")[0], "second")
        r = arm("PATCH", acct_path("rule-vault"),
                {"properties": {"encryption": {"keySource": "Microsoft.CognitiveServices"}}})
        self.assertEqual((r.status, r.json["error"]["code"]), (400, "CustomerManagedKeyCannotBeReverted"))


class DataKeyTests(unittest.TestCase):
    def test_platform_key_then_bind_then_revoke_and_restore(self):
        principal = account("dek1")
        self.assertEqual(cmk("dek1"), {"keySource": "Microsoft.CognitiveServices", "keyAccessible": True,
                                       "keyVersionInUse": None, "kid": None, "error": None})
        before = upload("dek1", '{"prompt": "a"}')
        self.assertEqual(before.status, 201, before)
        self.assertTrue(before.json["id"].startswith("file-"))
        self.assertEqual(before.json["bytes"], len('{"prompt": "a"}'))
        k = key("fkv", "dek1-key")
        version = k["key"]["kid"].rsplit("/", 1)[1]
        grant("fkv", principal)
        self.assertEqual(bind("dek1", "fkv", "dek1-key").status, 202)
        state = cmk("dek1")
        self.assertEqual(state["keySource"], "Microsoft.KeyVault")
        self.assertTrue(state["keyAccessible"])
        self.assertEqual(state["keyVersionInUse"], version)
        self.assertEqual(state["kid"], f"https://fkv.vault.azure.net/keys/dek1-key/{version}")
        self.assertIsNone(state["error"])
        # the admin CLI prints the same
        self.assertEqual(EMU.admin("account-cmk", "dek1")["kid"], state["kid"])
        # data written under Microsoft-managed keys reads through the customer-managed key now
        r = files("dek1", path=f"/{before.json['id']}/content")
        self.assertEqual((r.status, r.raw), (200, b'{"prompt": "a"}'))
        # raw upload
        r = files("dek1", "POST", body=b"\x00\x01binary", headers={"Content-Type": "application/octet-stream"},
                  api=f"{OAI_API}&filename=raw.bin")
        self.assertEqual(r.status, 201, r)
        raw_id = r.json["id"]
        listed = files("dek1").json
        self.assertEqual(listed["object"], "list")
        self.assertEqual({f["id"] for f in listed["data"]}, {before.json["id"], raw_id})
        self.assertEqual(files("dek1", path=f"/{raw_id}/content").raw, b"\x00\x01binary")
        # the ciphertext at rest is not the content
        with open(os.path.join(EMU.state_dir, "state.json"), "rb") as fh:
            self.assertNotIn(b"binary", fh.read())
        # revoke: uploads and downloads stop, the admin view says why
        EMU.admin_api("PUT", f"/vaults/fkv/access-policies/{principal}", {"keys": []})
        for r in (files("dek1", path=f"/{raw_id}/content"), upload("dek1", "x")):
            self.assertEqual(r.status, 403, r)
            self.assertEqual(r.json["error"]["code"], "CustomerManagedKeyInaccessible")
            self.assertEqual(r.json["error"]["innererror"]["code"], "AccessDenied")
            self.assertIn("inaccessible", r.json["error"]["message"])
        state = cmk("dek1")
        self.assertFalse(state["keyAccessible"])
        self.assertEqual(state["error"]["code"], "AccessDenied")
        self.assertEqual(files("dek1").status, 200)   # metadata needs no key
        grant("fkv", principal)
        self.assertEqual(files("dek1", path=f"/{raw_id}/content").raw, b"\x00\x01binary")
        self.assertTrue(cmk("dek1")["keyAccessible"])

    def test_disabled_expired_deleted_key(self):
        principal = account("dek2")
        k = key("fkv", "dek2-key")
        grant("fkv", principal)
        self.assertEqual(bind("dek2", "fkv", "dek2-key").status, 202)
        fid = upload("dek2", "hello").json["id"]
        owner = EMU.token(W["owner"])
        kid_path = "/keys/dek2-key/" + k["key"]["kid"].rsplit("/", 1)[1]

        def attrs(**a):
            r = EMU.request("PATCH", vault_url("fkv", kid_path), body={"attributes": a}, token=owner)
            self.assertEqual(r.status, 200, r)

        for change, undo, reason in (({"enabled": False}, {"enabled": True}, "KeyDisabled"),
                                     ({"exp": int(time.time()) - 10}, {"exp": None}, "KeyExpired")):
            attrs(**change)
            r = files("dek2", path=f"/{fid}/content")
            self.assertEqual((r.status, r.json["error"]["innererror"]["code"]), (403, reason), r)
            self.assertEqual(cmk("dek2")["error"]["code"], reason)
            attrs(**undo)
            self.assertEqual(files("dek2", path=f"/{fid}/content").raw, b"hello")
        r = EMU.request("DELETE", vault_url("fkv", "/keys/dek2-key"), token=owner)
        self.assertEqual(r.status, 200, r)
        r = files("dek2", path=f"/{fid}/content")
        self.assertEqual((r.status, r.json["error"]["innererror"]["code"]), (403, "KeyNotFound"), r)
        EMU.request("POST", vault_url("fkv", "/deletedkeys/dek2-key/recover"), token=owner)
        self.assertEqual(files("dek2", path=f"/{fid}/content").raw, b"hello")

    def test_versionless_binding_does_not_follow_and_rotation_does_not_re_encrypt(self):
        # ../shared/seeds/foundry-cmk-lab.txt, "Key rotation and management": "When a new key
        # version is created, the Foundry resource must be updated to reference it. Rotation
        # does not re-encrypt existing data." foundry-cmk-reference.txt, "How to Rotate
        # Encryption Keys": the service uses the new key "for encryption of newly stored data.
        # Existing data remains encrypted with the previous key". MicrosoftDocs/azure-ai-docs
        # articles/ai-services/openai/encrypt-data-at-rest.md, "Update the key version".
        principal = account("dek3")
        v1 = key("fkv", "dek3-key")["key"]["kid"].rsplit("/", 1)[1]
        grant("fkv", principal)
        self.assertEqual(bind("dek3", "fkv", "dek3-key").status, 202)   # no keyVersion
        f1 = upload("dek3", "before rotation").json["id"]
        v2 = key("fkv", "dek3-key")["key"]["kid"].rsplit("/", 1)[1]   # a new version: rotation
        # not followed: the account stays on the version current when it was bound
        state = cmk("dek3")
        self.assertEqual(state["keyVersionInUse"], v1)
        f_still_v1 = upload("dek3", "still v1").json["id"]
        self.assertNotIn("keyVersion", arm("GET", acct_path("dek3")).json["properties"]["encryption"]
                         ["keyVaultProperties"])
        # updating the resource (the same versionless binding, set again) takes the new version
        self.assertEqual(bind("dek3", "fkv", "dek3-key").status, 202)
        state = cmk("dek3")
        self.assertEqual(state["keyVersionInUse"], v2)
        f2 = upload("dek3", "after rotation").json["id"]
        # a new data key for new data; the old one stays wrapped by v1 only
        by_version = {d["version"]: d for d in cmk("dek3")["dataKeys"]}
        self.assertEqual((by_version[v1]["files"], by_version[v2]["files"]), (2, 1))
        self.assertEqual(len(cmk("dek3")["wrappedVersions"]), 2)
        for fid, text in ((f1, b"before rotation"), (f_still_v1, b"still v1"), (f2, b"after rotation")):
            self.assertEqual(files("dek3", path=f"/{fid}/content").raw, text)
        # the old version disabled: data written under it cannot be read, newer data can
        owner = EMU.token(W["owner"])

        def enable(version, on):
            r = EMU.request("PATCH", vault_url("fkv", f"/keys/dek3-key/{version}"),
                            body={"attributes": {"enabled": on}}, token=owner)
            self.assertEqual(r.status, 200, r)
        enable(v1, False)
        r = files("dek3", path=f"/{f1}/content")
        self.assertEqual((r.status, r.json["error"]["code"], r.json["error"]["innererror"]["code"]),
                         (403, "CustomerManagedKeyInaccessible", "KeyDisabled"), r)
        self.assertIn(f"/keys/dek3-key/{v1}", r.json["error"]["message"])
        self.assertEqual(files("dek3", path=f"/{f2}/content").raw, b"after rotation")
        self.assertTrue(cmk("dek3")["keyAccessible"])   # the bound version is fine
        enable(v1, True)
        self.assertEqual(files("dek3", path=f"/{f1}/content").raw, b"before rotation")

    def test_explicit_version_rotation(self):
        principal = account("dek4")
        v1 = key("fkv", "dek4-key")["key"]["kid"].rsplit("/", 1)[1]
        grant("fkv", principal)
        self.assertEqual(bind("dek4", "fkv", "dek4-key", v1).status, 202)
        f1 = upload("dek4", "one").json["id"]
        v2 = key("fkv", "dek4-key")["key"]["kid"].rsplit("/", 1)[1]
        self.assertEqual(cmk("dek4")["keyVersionInUse"], v1)   # pinned: no follow-up
        self.assertEqual(bind("dek4", "fkv", "dek4-key", v2).status, 202)
        self.assertEqual(cmk("dek4")["keyVersionInUse"], v2)
        self.assertEqual(files("dek4", path=f"/{f1}/content").raw, b"one")
        # binding the version in use again changes nothing
        self.assertEqual(bind("dek4", "fkv", "dek4-key", v2).status, 202)
        self.assertEqual(len(cmk("dek4")["dataKeys"]), 2)
        # an expired old version still unwraps what it wrapped (Key Vault allows unwrapKey
        # after exp); only the version in use is treated as revoked when it expires
        owner = EMU.token(W["owner"])
        r = EMU.request("PATCH", vault_url("fkv", f"/keys/dek4-key/{v1}"),
                        body={"attributes": {"exp": int(time.time()) - 10}}, token=owner)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(files("dek4", path=f"/{f1}/content").raw, b"one")

    def test_rbac_grant_at_resource_group_scope(self):
        principal = account("dek5")
        EMU.admin("add-vault", "--name", "fkvrbac", "--purge-protection", "--rbac")
        key("fkvrbac", "k")
        r = bind("dek5", "fkvrbac", "k")
        self.assertEqual(r.json["error"]["code"], "KeyVaultAccessForbidden")
        scope = f"/subscriptions/{SUB}/resourceGroups/{RG}"
        ra = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        r = arm("PUT", ra, {"properties": {"roleDefinitionId": CSEU, "principalId": principal}}, api=AUTHZ_API)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(bind("dek5", "fkvrbac", "k").status, 202)
        fid = upload("dek5", "rbac").json["id"]
        self.assertEqual(arm("DELETE", ra, api=AUTHZ_API).status, 200)
        r = files("dek5", path=f"/{fid}/content")
        self.assertEqual((r.status, r.json["error"]["innererror"]["code"]), (403, "ForbiddenByRbac"), r)
        self.assertEqual(cmk("dek5")["error"]["code"], "ForbiddenByRbac")


class DataPlaneTests(unittest.TestCase):
    def test_authentication_and_errors(self):
        account("dp1")
        r = files("dp1", token="")
        self.assertEqual(r.status, 401, r)
        r = files("dp1", token=EMU.token(W["user"]))   # a vault token: wrong audience
        self.assertEqual(r.status, 401, r)
        self.assertEqual(files("dp1", api=None).status, 404)
        r = files("dp1", path="/file-nope/content")
        self.assertEqual((r.status, r.json["error"]["code"]), (404, "NotFound"))
        r = files("dp1", "POST", body={"content": "x"})
        self.assertEqual(r.status, 400, r)
        fid = upload("dp1", "bye").json["id"]
        self.assertEqual(files("dp1", path=f"/{fid}").json["filename"], "train.jsonl")
        self.assertEqual(files("dp1", "DELETE", path=f"/{fid}").json["deleted"], True)
        self.assertEqual(files("dp1", path=f"/{fid}").status, 404)

    def test_unknown_endpoint_and_admin_unknown_account(self):
        with self.assertRaises(Exception):
            files("nosuchaccount")
        r = EMU.request("GET", f"https://127.0.0.1:{EMU.port}/_emulator/accounts/nosuch/cmk")
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    unittest.main()
