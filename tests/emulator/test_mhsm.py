#!/usr/bin/python3
"""Managed HSM: oct-HSM (AES) keys, AES key wrap in the HSM, and local RBAC.

Each test names the source of the behaviour it checks. "Recording" means the
Azure SDK for JavaScript's recordings against a real Managed HSM
(sdk/keyvault/keyvault-keys and keyvault-admin, 2021-2022); "spec" the Key
Vault data-plane REST specification (7.5/7.6); "docs" Microsoft's Managed HSM
documentation (about-keys-details.md, built-in-roles.md, access-control.md).
"""

import os
import re
import unittest

from cryptography.hazmat.primitives import keywrap

from emutest import Emulator, b64u, unb64u

EMU = None
W = {}
HSM = "mhsm1"
KV = "kvplain"
HSM_SCOPE = "https://managedhsm.azure.net/.default"
GUID = "0f0f0f0f-1111-4222-8333-444455556666"


def setUpModule():
    global EMU
    EMU = Emulator().start()
    for name in ("crypto-user", "encryption-user", "auditor", "nobody", "admin", "officer"):
        W[name] = EMU.admin("add-identity", "--name", name)
        W[name + "_tok"] = EMU.token(W[name], scope=HSM_SCOPE)
    EMU.admin("add-vault", "--name", HSM, "--hsm", "--retention-days", "7")
    EMU.admin("add-vault", "--name", KV)
    EMU.admin("set-policy", "--vault", KV, "--identity", "crypto-user", "--keys", "all")
    W["kv_tok"] = EMU.token(W["crypto-user"])
    EMU.admin("hsm-assign-role", "--vault", HSM, "--identity", "crypto-user", "--role", "Managed HSM Crypto User")
    EMU.admin("hsm-assign-role", "--vault", HSM, "--identity", "auditor", "--role", "Managed HSM Crypto Auditor")
    EMU.admin("hsm-assign-role", "--vault", HSM, "--identity", "admin", "--role", "Managed HSM Administrator")
    EMU.admin("hsm-assign-role", "--vault", HSM, "--identity", "officer", "--role", "Managed HSM Crypto Officer")
    EMU.admin("hsm-assign-role", "--vault", HSM, "--identity", "encryption-user",
              "--role", "Managed HSM Crypto Service Encryption User", "--key", "aes256")
    for bits in (128, 192, 256):
        EMU.admin("create-key", "--vault", HSM, "--name", f"aes{bits}", "--kty", "oct-HSM", "--size", str(bits))
    EMU.admin("create-key", "--vault", HSM, "--name", "rsahsm", "--kty", "RSA-HSM")


def tearDownModule():
    if EMU:
        EMU.cleanup()


def hsm(method, path, body=None, who="crypto-user", api="7.5", vault=HSM):
    url = f"https://{vault}.managedhsm.azure.net{path}?api-version={api}"
    return EMU.request(method, url, body=body, token=W[who + "_tok"])


def wrap(key, alg, value, who="crypto-user", op="wrapkey"):
    return hsm("POST", f"/keys/{key}/{op}", {"alg": alg, "value": b64u(value)}, who=who)


def import_aes(name, k, ops=None):
    jwk = {"kty": "oct", "k": b64u(k)}
    if ops is not None:
        jwk["key_ops"] = ops
    reply = hsm("PUT", f"/keys/{name}", {"key": jwk, "attributes": {}})
    assert reply.status == 200, reply
    return reply.json


class OctKeyTests(unittest.TestCase):
    def test_bundle_has_no_key_material(self):
        # Recording (keyvault-keys, "can create an OCT key with options"): a create
        # answers {"attributes":{...,"exportable":false,"recoverableDays",...},
        # "key":{"key_ops","kid","kty":"oct-HSM"}} -- no k, no key size.
        reply = hsm("POST", "/keys/created/create", {"kty": "oct-HSM", "key_size": 256})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(list(reply.json), ["attributes", "key"])
        self.assertEqual(sorted(reply.json["key"]), ["key_ops", "kid", "kty"])
        self.assertEqual(reply.json["key"]["kty"], "oct-HSM")
        self.assertRegex(reply.json["key"]["kid"], r"^https://mhsm1\.managedhsm\.azure\.net/keys/created/[0-9a-f]{32}$")
        self.assertIs(reply.json["attributes"]["exportable"], False)
        self.assertEqual(reply.json["attributes"]["recoverableDays"], 7)
        got = hsm("GET", "/keys/created")
        self.assertEqual(got.json["key"], reply.json["key"])

    def test_default_key_ops(self):
        # Recording: a create without key_ops answers ["wrapKey","unwrapKey","decrypt","encrypt"].
        reply = hsm("POST", "/keys/defaults/create", {"kty": "oct-HSM"})
        self.assertEqual(reply.json["key"]["key_ops"], ["wrapKey", "unwrapKey", "decrypt", "encrypt"])

    def test_key_size_must_be_an_aes_size(self):
        # Spec: oct key_size 128, 192 or 256 (docs: "oct 128-bit, 192-bit, 256-bit").
        for size in (64, 512, 2048):
            reply = hsm("POST", "/keys/badsize/create", {"kty": "oct-HSM", "key_size": size})
            self.assertEqual(reply.status, 400, reply)
            self.assertEqual(reply.json["error"]["code"], "BadParameter")

    def test_key_vault_refuses_symmetric_keys(self):
        # Docs: "Symmetric (oct-HSM / AES) keys aren't supported in Key Vault."
        url = f"https://{KV}.vault.azure.net/keys/sym/create?api-version=7.5"
        reply = EMU.request("POST", url, body={"kty": "oct-HSM", "key_size": 256}, token=W["kv_tok"])
        self.assertEqual(reply.status, 400, reply)
        self.assertIn("Managed HSM", reply.json["error"]["message"])
        url = f"https://{KV}.vault.azure.net/keys/sym?api-version=7.5"
        reply = EMU.request("PUT", url, body={"key": {"kty": "oct", "k": b64u(bytes(32))}}, token=W["kv_tok"])
        self.assertEqual(reply.status, 400, reply)
        proc = EMU.admin("create-key", "--vault", KV, "--name", "sym", "--kty", "oct-HSM", check=False)
        self.assertNotEqual(proc.returncode, 0)

    def test_import_oct_answers_oct_hsm(self):
        # Recording (aesCrypto-256): PUT {"key":{"kty":"oct","key_ops":[...],"k":...}} answers
        # "kty":"oct-HSM" and no k.
        bundle = import_aes("imported", os.urandom(24), ["encrypt", "decrypt", "wrapKey", "unwrapKey"])
        self.assertEqual(bundle["key"]["kty"], "oct-HSM")
        self.assertNotIn("k", bundle["key"])

    def test_admin_create_and_no_public_key(self):
        # Admin CLI: create-key --kty oct-HSM --size N prints the bundle; export-public refuses.
        out = EMU.admin("create-key", "--vault", HSM, "--name", "adminaes", "--kty", "oct-HSM", "--size", "128")
        self.assertEqual(out["key"]["kty"], "oct-HSM")
        proc = EMU.admin("export-public", "--vault", HSM, "--name", "adminaes", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no public key", proc.stderr)


class AesWrapTests(unittest.TestCase):
    def test_kw_round_trip_each_size(self):
        # Spec 7.5+: A128KW/A192KW/A256KW, "n-bit AES key wrap" (RFC 3394 per JWA, RFC 7518 4.4).
        for bits in (128, 192, 256):
            alg = f"A{bits}KW"
            dek = os.urandom(32)
            wrapped = wrap(f"aes{bits}", alg, dek)
            self.assertEqual(wrapped.status, 200, wrapped)
            self.assertEqual(len(unb64u(wrapped.json["value"])), 40)
            self.assertRegex(wrapped.json["kid"], rf"/keys/aes{bits}/[0-9a-f]{{32}}$")
            self.assertEqual(wrapped.json["alg"], alg)
            back = hsm("POST", f"/keys/aes{bits}/unwrapkey", {"alg": alg, "value": wrapped.json["value"]})
            self.assertEqual(back.status, 200, back)
            self.assertEqual(unb64u(back.json["value"]), dek)

    def test_wrap_is_rfc3394_and_rfc5649(self):
        # The constructions themselves: a key imported with known bytes wraps exactly as
        # RFC 3394 (A256KW, CKM_AES_KEY_WRAP) and RFC 5649 (CKM_AES_KEY_WRAP_PAD) compute.
        k = os.urandom(32)
        import_aes("known", k)
        dek = os.urandom(24)
        for alg in ("A256KW", "CKM_AES_KEY_WRAP"):
            got = unb64u(wrap("known", alg, dek).json["value"])
            self.assertEqual(got, keywrap.aes_key_wrap(k, dek), alg)
        odd = os.urandom(21)
        got = unb64u(wrap("known", "CKM_AES_KEY_WRAP_PAD", odd).json["value"])
        self.assertEqual(got, keywrap.aes_key_wrap_with_padding(k, odd))
        local = keywrap.aes_key_wrap_with_padding(k, odd)
        back = hsm("POST", "/keys/known/unwrapkey", {"alg": "CKM_AES_KEY_WRAP_PAD", "value": b64u(local)})
        self.assertEqual(unb64u(back.json["value"]), odd)

    def test_ckm_algs_take_any_key_size(self):
        # Spec 7.6: CKM_AES_KEY_WRAP / CKM_AES_KEY_WRAP_PAD carry no key size.
        for bits in (128, 192):
            for alg, dek in (("CKM_AES_KEY_WRAP", os.urandom(16)), ("CKM_AES_KEY_WRAP_PAD", os.urandom(5))):
                wrapped = wrap(f"aes{bits}", alg, dek)
                self.assertEqual(wrapped.status, 200, (alg, wrapped))
                back = hsm("POST", f"/keys/aes{bits}/unwrapkey", {"alg": alg, "value": wrapped.json["value"]})
                self.assertEqual(unb64u(back.json["value"]), dek)

    def test_alg_of_another_key_size_is_refused(self):
        # Docs: the algorithm must match the key size, else a key-size error (400).
        reply = wrap("aes128", "A256KW", os.urandom(32))
        self.assertEqual(reply.status, 400, reply)
        self.assertEqual(reply.json["error"]["code"], "BadParameter")
        self.assertIn("128", reply.json["error"]["message"])

    def test_corrupted_and_misshapen_wrapped_keys(self):
        # RFC 3394 2.2.3: a failed integrity check; the service answers 400 BadParameter.
        wrapped = bytearray(unb64u(wrap("aes256", "A256KW", os.urandom(32)).json["value"]))
        wrapped[5] ^= 1
        for value in (bytes(wrapped), bytes(wrapped[:-3]), bytes(16)):
            reply = hsm("POST", "/keys/aes256/unwrapkey", {"alg": "A256KW", "value": b64u(value)})
            self.assertEqual(reply.status, 400, reply)
            self.assertEqual(reply.json["error"]["code"], "BadParameter")

    def test_kw_needs_whole_blocks(self):
        # RFC 3394: the plaintext is n >= 2 64-bit blocks; RFC 5649 takes any length.
        self.assertEqual(wrap("aes256", "A256KW", os.urandom(20)).status, 400)
        self.assertEqual(wrap("aes256", "A256KW", os.urandom(8)).status, 400)
        self.assertEqual(wrap("aes256", "CKM_AES_KEY_WRAP_PAD", os.urandom(20)).status, 200)

    def test_algs_belong_to_their_key_types(self):
        # SDKs: A*KW/CKM_* are KeyWrapAlgorithm, not EncryptionAlgorithm; RSA algs need RSA keys.
        self.assertEqual(wrap("aes256", "A256KW", os.urandom(32), op="encrypt").status, 400)
        self.assertEqual(wrap("aes256", "RSA-OAEP-256", os.urandom(32)).status, 400)
        self.assertEqual(wrap("rsahsm", "A256KW", os.urandom(32)).status, 400)

    def test_key_ops_still_decide(self):
        # As for every key type: an operation outside key_ops is 403 KeyOperationForbidden.
        import_aes("wraponly", os.urandom(16), ["wrapKey"])
        wrapped = wrap("wraponly", "A128KW", os.urandom(16))
        self.assertEqual(wrapped.status, 200, wrapped)
        reply = hsm("POST", "/keys/wraponly/unwrapkey", {"alg": "A128KW", "value": wrapped.json["value"]})
        self.assertEqual(reply.status, 403, reply)
        self.assertEqual(reply.json["error"]["innererror"]["code"], "KeyOperationForbidden")

    def test_rsa_hsm_in_managed_hsm_as_before(self):
        # Recording (CreateRsaHsmKey): RSA-HSM keys in a Managed HSM; wrap/unwrap with RSA-OAEP-256.
        dek = os.urandom(32)
        wrapped = wrap("rsahsm", "RSA-OAEP-256", dek)
        self.assertEqual(wrapped.status, 200, wrapped)
        self.assertNotIn("alg", wrapped.json)
        back = hsm("POST", "/keys/rsahsm/unwrapkey", {"alg": "RSA-OAEP-256", "value": wrapped.json["value"]})
        self.assertEqual(unb64u(back.json["value"]), dek)


class LocalRbacTests(unittest.TestCase):
    def test_no_role_no_access(self):
        # Docs (access-control.md): data-plane access to a Managed HSM is by local RBAC only.
        reply = wrap("aes256", "A256KW", os.urandom(32), who="nobody")
        self.assertEqual(reply.status, 403, reply)
        self.assertEqual(reply.json["error"]["code"], "Forbidden")
        self.assertEqual(reply.json["error"]["innererror"]["code"], "ForbiddenByRbac")
        self.assertIn("Action: 'Microsoft.KeyVault/managedHsm/keys/wrap/action'", reply.json["error"]["message"])
        self.assertIn("Resource: '/keys/aes256'", reply.json["error"]["message"])

    def test_key_scoped_service_encryption_user(self):
        # Docs (built-in-roles.md): Crypto Service Encryption User = keys/read, wrap, unwrap;
        # an assignment at /keys/{name} reaches that key only.
        dek = os.urandom(32)
        wrapped = wrap("aes256", "A256KW", dek, who="encryption-user")
        self.assertEqual(wrapped.status, 200, wrapped)
        back = wrap("aes256", "A256KW", unb64u(wrapped.json["value"]), who="encryption-user", op="unwrapkey")
        self.assertEqual(unb64u(back.json["value"]), dek)
        self.assertEqual(hsm("GET", "/keys/aes256", who="encryption-user").status, 200)
        self.assertEqual(wrap("aes128", "A128KW", os.urandom(16), who="encryption-user").status, 403)
        self.assertEqual(hsm("GET", "/keys", who="encryption-user").status, 403)
        self.assertEqual(wrap("aes256", "A256KW", dek, who="encryption-user", op="encrypt").status, 403)

    def test_auditor_reads_but_does_not_use(self):
        # Docs: Crypto Auditor "read (but not use) key attributes".
        self.assertEqual(hsm("GET", "/keys", who="auditor").status, 200)
        self.assertEqual(hsm("GET", "/keys/aes128", who="auditor").status, 200)
        self.assertEqual(wrap("aes128", "A128KW", os.urandom(16), who="auditor").status, 403)

    def test_administrator_manages_roles_not_keys(self):
        # Docs: Administrator "Not permitted to perform any key management operations".
        self.assertEqual(hsm("GET", "/keys", who="admin").status, 403)
        self.assertEqual(hsm("POST", "/keys/x/create", {"kty": "oct-HSM"}, who="admin").status, 403)

    def test_deleted_keys_need_the_officer(self):
        # Docs: deletedKeys/read and recover are Crypto Officer's, not Crypto User's.
        hsm("POST", "/keys/todelete/create", {"kty": "oct-HSM"})
        self.assertEqual(hsm("DELETE", "/keys/todelete").status, 200)
        self.assertEqual(hsm("GET", "/deletedkeys/todelete").status, 403)
        self.assertEqual(hsm("GET", "/deletedkeys/todelete", who="officer").status, 200)
        self.assertEqual(hsm("POST", "/deletedkeys/todelete/recover", who="officer").status, 200)

    def test_no_access_policies(self):
        # Docs: Managed HSM has no access policies; the admin API refuses them.
        proc = EMU.admin("set-policy", "--vault", HSM, "--identity", "nobody", "--keys", "all", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("local RBAC", proc.stderr)
        proc = EMU.admin("assign-role", "--vault", HSM, "--identity", "nobody", "--role", "Key Vault Administrator",
                         check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(wrap("aes256", "A256KW", os.urandom(32), who="nobody").status, 403)

    def test_role_definitions_listed_as_recorded(self):
        # Recording (keyvault-admin, list role definitions): built-in roles at "//providers/...".
        reply = hsm("GET", "///providers/Microsoft.Authorization/roleDefinitions", who="admin")
        self.assertEqual(reply.status, 200, reply)
        roles = {d["properties"]["roleName"]: d for d in reply.json["value"]}
        user = roles["Managed HSM Crypto User"]
        self.assertEqual(user["name"], "21dbd100-6940-42c2-9190-5d6cb909625b")
        self.assertEqual(user["id"], "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/"
                                     "21dbd100-6940-42c2-9190-5d6cb909625b")
        self.assertEqual(user["type"], "Microsoft.Authorization/roleDefinitions")
        self.assertEqual(user["properties"]["type"], "AKVBuiltInRole")
        self.assertEqual(user["properties"]["assignableScopes"], ["/"])
        perms = user["properties"]["permissions"][0]
        self.assertEqual(sorted(perms), ["actions", "dataActions", "notActions", "notDataActions"])
        self.assertIn("Microsoft.KeyVault/managedHsm/keys/unwrap/action", perms["dataActions"])
        self.assertEqual(roles["Managed HSM Crypto Service Encryption User"]["name"],
                         "33413926-3206-4cdd-b39a-83574fe37a17")
        self.assertEqual(roles["Managed HSM Administrator"]["name"], "a290e904-7015-4bba-90c8-60543313cdb4")
        self.assertEqual(len(roles), 9)
        # Recording: a PUT over a built-in role's id is refused.
        put = hsm("PUT", "///providers/Microsoft.Authorization/roleDefinitions/a290e904-7015-4bba-90c8-60543313cdb4",
                  {"properties": {"roleName": "x", "permissions": []}}, who="admin")
        self.assertEqual(put.status, 400, put)
        self.assertTrue(put.json["error"]["message"].startswith(
            "Cannot re-use the name/GUID matching that of a built-in role."))

    def test_role_assignment_lifecycle_on_the_hsm(self):
        # Recording (keyvault-admin, create/read/delete role assignments): PUT 201, GET 200,
        # DELETE 200 with the assignment, GET 404 RoleAssignmentNotFound.
        base = "//keys/aes192/providers/Microsoft.Authorization/roleAssignments/" + GUID
        body = {"properties": {"roleDefinitionId": "Microsoft.KeyVault/providers/Microsoft.Authorization/"
                                                   "roleDefinitions/33413926-3206-4cdd-b39a-83574fe37a17",
                               "principalId": W["nobody"]["object_id"]}}
        self.assertEqual(wrap("aes192", "A192KW", os.urandom(16), who="nobody").status, 403)
        self.assertEqual(hsm("PUT", base, body, who="crypto-user").status, 403)  # no roleAssignments/write
        put = hsm("PUT", base, body, who="admin")
        self.assertEqual(put.status, 201, put)
        self.assertEqual(put.json, {
            "id": f"/keys/aes192/providers/Microsoft.Authorization/roleAssignments/{GUID}", "name": GUID,
            "properties": {"principalId": W["nobody"]["object_id"],
                           "roleDefinitionId": body["properties"]["roleDefinitionId"], "scope": "/keys/aes192"},
            "type": "Microsoft.Authorization/roleAssignments"})
        self.assertEqual(hsm("PUT", base, body, who="admin").status, 409)
        self.assertEqual(wrap("aes192", "A192KW", os.urandom(16), who="nobody").status, 200)
        self.assertEqual(hsm("GET", base, who="admin").json, put.json)
        listed = hsm("GET", "//keys/providers/Microsoft.Authorization/roleAssignments", who="admin")
        self.assertIn(GUID, [a["name"] for a in listed.json["value"]])
        self.assertEqual(hsm("DELETE", base, who="admin").json, put.json)
        gone = hsm("GET", base, who="admin")
        self.assertEqual(gone.status, 404, gone)
        self.assertEqual(gone.json["error"]["code"], "RoleAssignmentNotFound")
        self.assertRegex(gone.json["error"]["message"],
                         r"^Requested role assignment not found \(Activity ID: [0-9a-f-]{36}\)$")
        self.assertEqual(wrap("aes192", "A192KW", os.urandom(16), who="nobody").status, 403)

    def test_assignment_at_root_scope(self):
        # Recording: scope "/" answers "id":"/providers/Microsoft.Authorization/roleAssignments/{name}".
        name = "1f0f0f0f-1111-4222-8333-444455556666"
        body = {"properties": {"roleDefinitionId": "21dbd100-6940-42c2-9190-5d6cb909625b",
                               "principalId": "00000000-0000-0000-0000-0000000000aa"}}
        put = hsm("PUT", "///providers/Microsoft.Authorization/roleAssignments/" + name, body, who="admin")
        self.assertEqual(put.status, 201, put)
        self.assertEqual(put.json["id"], "/providers/Microsoft.Authorization/roleAssignments/" + name)
        self.assertEqual(put.json["properties"]["scope"], "/")
        bad = hsm("PUT", "//secrets/providers/Microsoft.Authorization/roleAssignments/" + GUID, body, who="admin")
        self.assertEqual(bad.status, 400, bad)

    def test_admin_cli_lists_and_removes(self):
        out = EMU.admin("hsm-assign-role", "--vault", HSM, "--identity", "nobody",
                        "--role", "Managed HSM Crypto User", "--scope", "/keys")
        self.assertEqual(out["properties"]["scope"], "/keys")
        self.assertEqual(out["role_name"], "Managed HSM Crypto User")
        self.assertEqual(hsm("GET", "/keys", who="nobody").status, 200)
        names = [a["name"] for a in EMU.admin("hsm-list-roles", "--vault", HSM)["value"]]
        self.assertIn(out["name"], names)
        EMU.admin("hsm-unassign-role", "--vault", HSM, "--name", out["name"])
        self.assertEqual(hsm("GET", "/keys", who="nobody").status, 403)
        self.assertTrue(re.match(r"^[0-9a-f-]{36}$", out["name"]))


if __name__ == "__main__":
    unittest.main(verbosity=1)
