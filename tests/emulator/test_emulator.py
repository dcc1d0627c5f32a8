#!/usr/bin/python3
"""Behaviour of the emulator itself: Entra tokens, Key Vault keys API, permissions,
admin CLI, TLS/host routing, persistence. Runs one emulator for the module."""

import base64
import json
import os
import re
import signal
import subprocess
import ssl
import time
import unittest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from emutest import Emulator, b64u, jwt_claims, unb64u, vault_url

EMU = None
W = {}  # the world created in setUpModule

VAULT = "kvtest"
OAEP = {
    "RSA-OAEP": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
    "RSA-OAEP-256": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    "RSA1_5": padding.PKCS1v15,
}


def setUpModule():
    global EMU
    EMU = Emulator(["--localhost-vault", "kvlocal"]).start()
    W["tenant"] = EMU.admin("show-tenant")
    W["full"] = EMU.admin("add-identity", "--name", "full-access")
    W["wrap"] = EMU.admin("add-identity", "--name", "wrap-only")
    W["other_tenant"] = EMU.admin("add-tenant", "--name", "contoso")
    W["foreign"] = EMU.admin("add-identity", "--name", "foreign", "--tenant", "contoso")
    EMU.admin("add-vault", "--name", VAULT)
    EMU.admin("add-vault", "--name", "kvlocal")
    EMU.admin("set-policy", "--vault", VAULT, "--identity", W["full"]["client_id"], "--keys", "all")
    EMU.admin("set-policy", "--vault", "kvlocal", "--identity", "full-access", "--keys", "get,list,create")
    EMU.admin("set-policy", "--vault", VAULT, "--identity", W["wrap"]["object_id"], "--keys", "get,wrapKey")
    W["tok"] = EMU.token(W["full"])
    W["wrap_tok"] = EMU.token(W["wrap"])


def tearDownModule():
    if EMU:
        EMU.cleanup()


def kv(method, path, body=None, token=None, vault=VAULT, api="7.4", headers=None, **query):
    return EMU.request(method, vault_url(vault, path, api=api, **query), body=body,
                       token=W["tok"] if token is None else token, headers=headers)


def create(name, **body):
    body.setdefault("kty", "RSA")
    reply = kv("POST", f"/keys/{name}/create", body)
    assert reply.status == 200, reply
    return reply.json


def import_local_rsa(name, size=2048):
    """A key whose private half the test holds too (via the admin CLI import)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=size)
    path = os.path.join(EMU.state_dir, f"{name}.pem")
    with open(path, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    bundle = EMU.admin("import-key", "--vault", VAULT, "--name", name, "--pem", path)
    return key, bundle


def assert_no_padding(testcase, obj):
    """Every base64url member (n, e, x, y, value, ...) is unpadded and URL-safe."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("n", "e", "x", "y", "value") and isinstance(v, str):
                testcase.assertRegex(v, r"^[A-Za-z0-9_-]+$", f"{k} is not unpadded base64url")
            assert_no_padding(testcase, v)
    elif isinstance(obj, list):
        for v in obj:
            assert_no_padding(testcase, v)


class EntraTests(unittest.TestCase):
    def token_request(self, tenant=None, **form):
        data = {"grant_type": "client_credentials", "client_id": W["full"]["client_id"],
                "client_secret": W["full"]["client_secret"], "scope": "https://vault.azure.net/.default"}
        data.update(form)
        tenant = tenant or W["tenant"]["tenant_id"]
        return EMU.request("POST", f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", form=data)

    def test_token_issued_like_entra(self):
        reply = self.token_request()
        self.assertEqual(reply.status, 200)
        self.assertEqual(set(reply.json), {"token_type", "expires_in", "ext_expires_in", "access_token"})
        self.assertEqual(reply.json["token_type"], "Bearer")
        self.assertEqual(reply.json["expires_in"], 3599)
        claims = jwt_claims(reply.json["access_token"])
        tid = W["tenant"]["tenant_id"]
        self.assertEqual(claims["aud"], "https://vault.azure.net")
        self.assertEqual(claims["iss"], f"https://sts.windows.net/{tid}/")
        self.assertEqual(claims["tid"], tid)
        self.assertEqual(claims["appid"], W["full"]["client_id"])
        self.assertEqual(claims["oid"], W["full"]["object_id"])
        self.assertEqual(claims["sub"], W["full"]["object_id"])
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        header = json.loads(unb64u(reply.json["access_token"].split(".")[0]))
        self.assertEqual(header["alg"], "RS256")

    def test_token_signature_verifies_with_published_jwks(self):
        token = self.token_request().json["access_token"]
        tid = W["tenant"]["tenant_id"]
        jwks = EMU.request("GET", f"https://login.microsoftonline.com/{tid}/discovery/v2.0/keys").json
        jwk = jwks["keys"][0]
        pub = rsa.RSAPublicNumbers(int.from_bytes(unb64u(jwk["e"]), "big"),
                                   int.from_bytes(unb64u(jwk["n"]), "big")).public_key()
        head, body, sig = token.split(".")
        pub.verify(unb64u(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())

    def test_tenant_domain_name_accepted(self):
        self.assertEqual(self.token_request(tenant=W["tenant"]["domain"]).status, 200)

    def test_bad_secret(self):
        reply = self.token_request(client_secret="wrong")
        self.assertEqual(reply.status, 401)
        self.assertEqual(reply.json["error"], "invalid_client")
        self.assertTrue(reply.json["error_description"].startswith("AADSTS7000215: Invalid client secret provided."))
        self.assertEqual(reply.json["error_codes"], [7000215])
        for member in ("timestamp", "trace_id", "correlation_id"):
            self.assertIn(member, reply.json)

    def test_unknown_client(self):
        reply = self.token_request(client_id="11111111-2222-3333-4444-555555555555")
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.json["error"], "unauthorized_client")
        self.assertEqual(reply.json["error_codes"], [700016])

    def test_client_of_other_tenant_is_unknown_here(self):
        reply = self.token_request(client_id=W["foreign"]["client_id"], client_secret=W["foreign"]["client_secret"])
        self.assertEqual(reply.json["error_codes"], [700016])

    def test_unknown_tenant(self):
        reply = self.token_request(tenant="00000000-1111-2222-3333-444444444444")
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.json["error_codes"], [90002])

    def test_bad_scope(self):
        for scope in ("https://vault.azure.net", ""):
            reply = self.token_request(scope=scope)
            self.assertEqual(reply.status, 400, scope)
            self.assertEqual(reply.json["error"], "invalid_scope")
            self.assertEqual(reply.json["error_codes"], [70011])

    def test_v1_endpoint_and_basic_auth(self):
        tid = W["tenant"]["tenant_id"]
        reply = EMU.request("POST", f"https://login.microsoftonline.com/{tid}/oauth2/token",
                            form={"grant_type": "client_credentials", "client_id": W["full"]["client_id"],
                                  "client_secret": W["full"]["client_secret"], "resource": "https://vault.azure.net"})
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.json["resource"], "https://vault.azure.net")
        self.assertIsInstance(reply.json["expires_on"], str)
        basic = base64.b64encode(f"{W['full']['client_id']}:{W['full']['client_secret']}".encode()).decode()
        reply = EMU.request("POST", f"https://login.microsoftonline.com/{tid}/oauth2/v2.0/token",
                            form={"grant_type": "client_credentials", "scope": "https://vault.azure.net/.default"},
                            headers={"Authorization": "Basic " + basic})
        self.assertEqual(reply.status, 200)

    def test_discovery_documents(self):
        tid = W["tenant"]["tenant_id"]
        oidc = EMU.request("GET", f"https://login.microsoftonline.com/{tid}/v2.0/.well-known/openid-configuration")
        self.assertEqual(oidc.status, 200)
        self.assertEqual(oidc.json["token_endpoint"], f"https://login.microsoftonline.com/{tid}/oauth2/v2.0/token")
        inst = EMU.request("GET", "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1"
                           f"&authorization_endpoint=https://login.microsoftonline.com/{tid}/oauth2/v2.0/authorize")
        self.assertEqual(inst.status, 200)
        self.assertIn("login.microsoftonline.com", inst.json["metadata"][0]["aliases"])

    def test_token_endpoint_by_path_on_loopback(self):
        tid = W["tenant"]["tenant_id"]
        reply = EMU.request("POST", f"https://127.0.0.1:{EMU.port}/{tid}/oauth2/v2.0/token",
                            form={"grant_type": "client_credentials", "client_id": W["full"]["client_id"],
                                  "client_secret": W["full"]["client_secret"],
                                  "scope": "https://vault.azure.net/.default"})
        self.assertEqual(reply.status, 200)
        oidc = EMU.request("GET", f"https://127.0.0.1:{EMU.port}/{tid}/v2.0/.well-known/openid-configuration")
        self.assertTrue(oidc.json["token_endpoint"].startswith(f"https://127.0.0.1:{EMU.port}/"))


class AuthTests(unittest.TestCase):
    def test_challenge_without_token(self):
        reply = kv("GET", "/keys", token="")
        self.assertEqual(reply.status, 401)
        self.assertEqual(reply.header("WWW-Authenticate"),
                         f'Bearer authorization="https://login.microsoftonline.com/{W["tenant"]["tenant_id"]}", '
                         'resource="https://vault.azure.net"')
        self.assertEqual(reply.json, {"error": {"code": "Unauthorized",
                                                "message": "AKV10000: Request is missing a Bearer or PoP token."}})
        self.assertEqual(reply.header("Content-Type"), "application/json; charset=utf-8")

    def test_challenge_even_on_unknown_path(self):
        self.assertEqual(kv("GET", "/secrets/x", token="").status, 401)

    def test_tampered_token(self):
        head, body, sig = W["tok"].split(".")
        claims = jwt_claims(W["tok"])
        claims["oid"] = W["wrap"]["object_id"]
        forged = f"{head}.{b64u(json.dumps(claims).encode())}.{sig}"
        reply = kv("GET", "/keys", token=forged)
        self.assertEqual(reply.status, 401)
        self.assertIn("AKV10046", reply.json["error"]["message"])
        self.assertIn("WWW-Authenticate", reply.headers)

    def test_expired_token(self):
        token = EMU.admin("issue-token", "--identity", "full-access", "--lifetime", "-5")["access_token"]
        reply = kv("GET", "/keys", token=token)
        self.assertEqual(reply.status, 401)
        self.assertIn("TokenExpired", reply.json["error"]["message"])

    def test_issue_token_without_lifetime_uses_the_default(self):
        # The admin CLI sends "lifetime": null when --lifetime is left out; that was a 500.
        token = EMU.admin("issue-token", "--identity", "full-access")["access_token"]
        reply = kv("GET", "/keys", token=token)
        self.assertEqual(reply.status, 200)

    def test_wrong_audience(self):
        token = EMU.token(W["full"], scope="https://management.azure.com/.default")
        reply = kv("GET", "/keys", token=token)
        self.assertEqual(reply.status, 401)
        self.assertEqual(reply.json["error"]["message"],
                         "AKV10022: Invalid audience. Expected https://vault.azure.net, "
                         "found: https://management.azure.com.")

    def test_wrong_tenant(self):
        EMU.admin("set-policy", "--vault", VAULT, "--identity", "foreign", "--keys", "list")
        token = EMU.token(W["foreign"])
        reply = kv("GET", "/keys", token=token)
        self.assertEqual(reply.status, 401)
        self.assertTrue(reply.json["error"]["message"].startswith("AKV10032: Invalid issuer."))
        # The challenge names the vault's tenant, so a client can retry there.
        self.assertIn(W["tenant"]["tenant_id"], reply.header("WWW-Authenticate"))

    def test_short_token_lifetime_expires(self):
        emu = Emulator(["--token-lifetime", "2"]).start()
        try:
            ident = emu.admin("add-identity", "--name", "a")
            emu.admin("add-vault", "--name", "kvshort")
            emu.admin("set-policy", "--vault", "kvshort", "--identity", "a", "--keys", "list")
            token = emu.token(ident)
            self.assertEqual(jwt_claims(token)["exp"] - jwt_claims(token)["iat"], 2)
            url = vault_url("kvshort", "/keys")
            self.assertEqual(emu.request("GET", url, token=token).status, 200)
            time.sleep(2.2)
            self.assertEqual(emu.request("GET", url, token=token).status, 401)
        finally:
            emu.cleanup()


class KeyTests(unittest.TestCase):
    def test_create_rsa_sizes(self):
        for size in (2048, 3072, 4096):
            bundle = create(f"rsa-{size}", key_size=size)
            self.assertEqual(set(bundle), {"key", "attributes"})
            key = bundle["key"]
            self.assertEqual(list(key), ["kid", "kty", "key_ops", "n", "e"])
            self.assertEqual(len(unb64u(key["n"])) * 8, size)
            self.assertEqual(key["e"], "AQAB")
            self.assertEqual(key["key_ops"], ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"])
            self.assertRegex(key["kid"], rf"^https://{VAULT}\.vault\.azure\.net/keys/rsa-{size}/[0-9a-f]{{32}}$")
            attrs = bundle["attributes"]
            # api-version 7.4 (kv's default): `exportable` is stated, false.
            self.assertEqual(list(attrs), ["enabled", "created", "updated", "recoveryLevel", "recoverableDays",
                                           "exportable"])
            self.assertIs(attrs["exportable"], False)
            self.assertEqual(attrs["recoveryLevel"], "Recoverable+Purgeable")
            self.assertEqual(attrs["recoverableDays"], 90)
            assert_no_padding(self, bundle)

    def test_create_ec_curves(self):
        for crv, size in (("P-256", 32), ("P-384", 48), ("P-521", 66), ("P-256K", 32)):
            bundle = create(f"ec-{crv}", kty="EC", crv=crv)
            key = bundle["key"]
            self.assertEqual(list(key), ["kid", "kty", "key_ops", "crv", "x", "y"])
            self.assertEqual(key["crv"], crv)
            self.assertEqual(key["key_ops"], ["sign", "verify"])
            self.assertEqual(len(unb64u(key["x"])), size)
            self.assertEqual(len(unb64u(key["y"])), size)
            assert_no_padding(self, bundle)

    def test_create_with_options(self):
        bundle = create("opts", kty="RSA-HSM", key_ops=["wrapKey", "unwrapKey"],
                        attributes={"enabled": True, "nbf": 1000, "exp": 4102444800}, tags={"purpose": "cmk"})
        self.assertEqual(bundle["key"]["kty"], "RSA-HSM")
        self.assertEqual(bundle["key"]["key_ops"], ["wrapKey", "unwrapKey"])
        self.assertEqual(bundle["tags"], {"purpose": "cmk"})
        self.assertEqual(list(bundle["attributes"])[:3], ["enabled", "nbf", "exp"])

    def test_attributes_follow_api_version(self):
        """exportable from 7.4, hsmPlatform ("0" software, "2" HSM) from 7.5, as recorded."""
        create("attrs-soft")
        create("attrs-hsm", kty="RSA-HSM")
        expected = {"7.3": (None, None, None), "7.4": (False, None, None),
                    "7.5": (False, "0", "2"), "2025-07-01": (False, "0", "2")}
        for api, (exportable, soft, hsm) in expected.items():
            attrs = kv("GET", "/keys/attrs-soft", api=api).json["attributes"]
            self.assertEqual(attrs.get("exportable"), exportable, api)
            self.assertEqual(attrs.get("hsmPlatform"), soft, api)
            self.assertEqual(kv("GET", "/keys/attrs-hsm", api=api).json["attributes"].get("hsmPlatform"), hsm, api)
            listed = kv("GET", "/keys/attrs-soft/versions", api=api).json["value"][0]["attributes"]
            self.assertEqual(listed.get("exportable"), exportable, api)
        self.assertEqual(list(kv("GET", "/keys/attrs-soft", api="7.5").json["attributes"])[-2:],
                         ["exportable", "hsmPlatform"])

    def test_create_rejects_bad_parameters(self):
        for body in ({"kty": "RSA", "key_size": 1024}, {"kty": "DSA"}, {"kty": "EC", "crv": "P-192"},
                     {"kty": "RSA", "key_ops": ["fly"]}):
            reply = kv("POST", "/keys/bad/create", body)
            self.assertEqual(reply.status, 400, body)
            self.assertEqual(reply.json["error"]["code"], "BadParameter")
        self.assertEqual(kv("POST", "/keys/bad_name!/create", {"kty": "RSA"}).status, 400)

    def test_get_latest_and_by_version(self):
        first = create("getme")
        second = create("getme")
        self.assertNotEqual(first["key"]["kid"], second["key"]["kid"])
        latest = kv("GET", "/keys/getme")
        self.assertEqual(latest.status, 200)
        self.assertEqual(latest.json, second)
        version = first["key"]["kid"].rsplit("/", 1)[1]
        old = kv("GET", f"/keys/getme/{version}")
        self.assertEqual(old.json, first)
        # Names are case-insensitive; trailing slash and empty version mean "latest".
        self.assertEqual(kv("GET", "/keys/GETME/").json["key"]["kid"], second["key"]["kid"])

    def test_not_found(self):
        reply = kv("GET", "/keys/does-not-exist")
        self.assertEqual(reply.status, 404)
        self.assertEqual(reply.json["error"]["code"], "KeyNotFound")
        self.assertTrue(reply.json["error"]["message"].startswith(
            "A key with (name/id) does-not-exist was not found in this key vault."))
        create("exists")
        reply = kv("GET", "/keys/exists/0123456789abcdef0123456789abcdef")
        self.assertEqual(reply.status, 404)
        self.assertIn("exists/0123456789abcdef0123456789abcdef", reply.json["error"]["message"])

    def test_missing_and_unknown_api_version(self):
        reply = kv("GET", "/keys", api=None)
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.json["error"]["code"], "BadParameter")
        reply = kv("GET", "/keys", api="2016-10-01")
        self.assertEqual(reply.status, 400)
        self.assertIn("is not recognized", reply.json["error"]["message"])
        for api in ("7.0", "7.3", "7.5"):
            self.assertEqual(kv("GET", "/keys", api=api).status, 200, api)

    def test_service_headers(self):
        reply = kv("GET", "/keys", headers={"x-ms-client-request-id": "abc-123"})
        self.assertEqual(reply.header("x-ms-client-request-id"), "abc-123")
        self.assertRegex(reply.header("x-ms-request-id"), r"^[0-9a-f-]{36}$")
        self.assertEqual(reply.header("x-ms-keyvault-region"), "eastus")
        self.assertTrue(reply.header("x-ms-keyvault-service-version"))
        self.assertTrue(reply.header("x-ms-keyvault-network-info"))
        self.assertEqual(reply.header("Cache-Control"), "no-cache")
        self.assertEqual(int(reply.header("Content-Length")), len(reply.raw))

    def test_update_attributes_and_tags(self):
        bundle = create("patchme")
        version = bundle["key"]["kid"].rsplit("/", 1)[1]
        reply = kv("PATCH", f"/keys/patchme/{version}",
                   {"attributes": {"enabled": False, "exp": 4102444800}, "tags": {"a": "b"}, "key_ops": ["wrapKey"]})
        self.assertEqual(reply.status, 200)
        self.assertFalse(reply.json["attributes"]["enabled"])
        self.assertEqual(reply.json["attributes"]["exp"], 4102444800)
        self.assertEqual(reply.json["tags"], {"a": "b"})
        self.assertEqual(reply.json["key"]["key_ops"], ["wrapKey"])
        # A disabled key can still be read...
        self.assertFalse(kv("GET", "/keys/patchme").json["attributes"]["enabled"])
        # ...but not used.
        reply = kv("POST", "/keys/patchme/wrapkey", {"alg": "RSA-OAEP", "value": b64u(b"k" * 32)})
        self.assertEqual(reply.status, 403)
        self.assertEqual(reply.json["error"]["innererror"]["code"], "KeyDisabled")

    def test_import_via_rest(self):
        local = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        n = local.private_numbers()
        num = lambda v: b64u(v.to_bytes((v.bit_length() + 7) // 8, "big"))  # noqa: E731
        jwk = {"kty": "RSA", "key_ops": ["wrapKey", "unwrapKey"], "n": num(n.public_numbers.n),
               "e": num(n.public_numbers.e), "d": num(n.d), "p": num(n.p), "q": num(n.q),
               "dp": num(n.dmp1), "dq": num(n.dmq1), "qi": num(n.iqmp)}
        reply = kv("PUT", "/keys/imported", {"key": jwk, "Hsm": True})
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.json["key"]["kty"], "RSA-HSM")
        self.assertEqual(reply.json["key"]["n"], jwk["n"])
        self.assertNotIn("d", reply.json["key"])
        wrapped = local.public_key().encrypt(b"x" * 32, padding.PKCS1v15())
        reply = kv("POST", "/keys/imported/unwrapkey", {"alg": "RSA1_5", "value": b64u(wrapped)})
        self.assertEqual(unb64u(reply.json["value"]), b"x" * 32)

    def test_rotation_policy_sets_expiry_of_new_versions(self):
        create("policied")
        default = kv("GET", "/keys/policied/rotationpolicy")
        self.assertEqual(default.status, 200)
        # Never set: the service's default, no id, null attributes.
        self.assertEqual(default.json, {"lifetimeActions": [
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}], "attributes": None})
        policy = {"lifetimeActions": [{"trigger": {"timeAfterCreate": "P18M"}, "action": {"type": "Rotate"}}],
                  "attributes": {"expiryTime": "P2Y"}}
        reply = kv("PUT", "/keys/policied/rotationpolicy", policy)
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.json["attributes"]["expiryTime"], "P2Y")
        self.assertEqual(set(reply.json["attributes"]), {"expiryTime", "created", "updated"})
        self.assertEqual(reply.json["id"], f"https://{VAULT}.vault.azure.net/keys/policied/rotationpolicy")
        # A policy without a notify action gets the default one appended.
        self.assertEqual(reply.json["lifetimeActions"], policy["lifetimeActions"] + [
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}])
        notify = {"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P60D"}, "action": {"type": "Notify"}}]}
        self.assertEqual(kv("PUT", "/keys/policied/rotationpolicy", notify).json["lifetimeActions"],
                         notify["lifetimeActions"])
        reply = kv("PUT", "/keys/policied/rotationpolicy", policy)
        rotated = kv("POST", "/keys/policied/rotate").json
        attrs = rotated["attributes"]
        self.assertAlmostEqual(attrs["exp"] - attrs["created"], 2 * 365.25 * 86400, delta=2 * 86400)

    def test_backup_restore(self):
        create("saved", tags={"t": "1"})
        blob = kv("POST", "/keys/saved/backup")
        self.assertEqual(blob.status, 200)
        self.assertEqual(set(blob.json), {"value"})
        self.assertEqual(kv("POST", "/keys/restore", {"value": blob.json["value"]}).status, 409)
        kv("DELETE", "/keys/saved")
        kv("DELETE", "/deletedkeys/saved")
        restored = kv("POST", "/keys/restore", {"value": blob.json["value"]})
        self.assertEqual(restored.status, 200)
        self.assertEqual(restored.json["tags"], {"t": "1"})
        self.assertEqual(kv("POST", "/keys/restore", {"value": "AAAA"}).status, 400)

    def test_delete_recover_purge(self):
        create("doomed")
        reply = kv("DELETE", "/keys/doomed")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.json["recoveryId"], f"https://{VAULT}.vault.azure.net/deletedkeys/doomed")
        self.assertEqual(kv("GET", "/keys/doomed").status, 404)
        reply = kv("POST", "/keys/doomed/create", {"kty": "RSA"})
        self.assertEqual(reply.status, 409)
        self.assertEqual(reply.json["error"]["innererror"]["code"], "ObjectIsDeletedButRecoverable")
        self.assertEqual(kv("GET", "/deletedkeys/doomed").status, 200)
        self.assertEqual(kv("POST", "/deletedkeys/doomed/recover").status, 200)
        self.assertEqual(kv("GET", "/keys/doomed").status, 200)
        kv("DELETE", "/keys/doomed")
        self.assertEqual(kv("DELETE", "/deletedkeys/doomed").status, 204)
        self.assertEqual(kv("GET", "/deletedkeys/doomed").status, 404)


class ListTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        EMU.admin("add-vault", "--name", "kvlist")
        EMU.admin("set-policy", "--vault", "kvlist", "--identity", "full-access", "--keys", "all")
        cls.names = [f"listed-{i}" for i in range(5)]
        for name in cls.names:
            EMU.admin("create-key", "--vault", "kvlist", "--name", name, "--kty", "EC")
        for _ in range(4):
            kv("POST", "/keys/listed-0/rotate", vault="kvlist")

    def walk(self, url):
        pages, items = [], []
        while url:
            reply = EMU.request("GET", url, token=W["tok"])
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual(set(reply.json), {"value", "nextLink"})
            pages.append(reply.json)
            items += reply.json["value"]
            url = reply.json["nextLink"]
        return pages, items

    def test_list_keys_paged(self):
        pages, items = self.walk(vault_url("kvlist", "/keys", maxresults=2))
        self.assertEqual(len(pages), 3)
        self.assertEqual([len(p["value"]) for p in pages], [2, 2, 1])
        self.assertIsNone(pages[-1]["nextLink"])
        for page in pages[:-1]:
            self.assertRegex(page["nextLink"],
                             r"^https://kvlist\.vault\.azure\.net:443/keys\?api-version=7\.4"
                             r"&\$skiptoken=[A-Za-z0-9_-]+&maxresults=2$")
        self.assertEqual([i["kid"] for i in items], [f"https://kvlist.vault.azure.net/keys/{n}" for n in self.names])
        for item in items:
            self.assertEqual(set(item), {"kid", "attributes"})

    def test_list_default_page(self):
        pages, items = self.walk(vault_url("kvlist", "/keys"))
        self.assertEqual(len(pages), 1)
        self.assertEqual(len(items), 5)

    def test_maxresults_capped_and_validated(self):
        reply = kv("GET", "/keys", vault="kvlist", maxresults=100)
        self.assertEqual(reply.status, 200)
        self.assertEqual(kv("GET", "/keys", vault="kvlist", maxresults=0).status, 400)

    def test_list_versions_paged(self):
        pages, items = self.walk(vault_url("kvlist", "/keys/listed-0/versions", maxresults=2))
        self.assertEqual(len(items), 5)
        self.assertEqual([len(p["value"]) for p in pages], [2, 2, 1])
        versions = [i["kid"].rsplit("/", 1)[1] for i in items]
        self.assertEqual(versions, sorted(versions))
        for item in items:
            self.assertRegex(item["kid"], r"^https://kvlist\.vault\.azure\.net/keys/listed-0/[0-9a-f]{32}$")
        self.assertIn("/keys/listed-0/versions?api-version=7.4&$skiptoken=", pages[0]["nextLink"])

    def test_list_needs_list_permission(self):
        reply = kv("GET", "/keys", token=W["wrap_tok"])
        self.assertEqual(reply.status, 403)


class WrapTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.local_key, cls.bundle = import_local_rsa("wrap-local")
        cls.kid = cls.bundle["key"]["kid"]
        cls.version = cls.kid.rsplit("/", 1)[1]

    def test_unwrap_what_was_wrapped_locally_with_exported_public_key(self):
        pem = EMU.admin("export-public", "--vault", VAULT, "--name", "wrap-local")
        public = serialization.load_pem_public_key(pem.encode())
        dek = os.urandom(32)
        for alg, pad in OAEP.items():
            wrapped = public.encrypt(dek, pad())
            reply = kv("POST", f"/keys/wrap-local/{self.version}/unwrapkey", {"alg": alg, "value": b64u(wrapped)})
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual(set(reply.json), {"kid", "value"})
            self.assertEqual(reply.json["kid"], self.kid)
            self.assertEqual(unb64u(reply.json["value"]), dek)
            assert_no_padding(self, reply.json)

    def test_wrap_in_vault_unwrap_locally(self):
        dek = os.urandom(32)
        for alg, pad in OAEP.items():
            reply = kv("POST", f"/keys/wrap-local/{self.version}/wrapkey", {"alg": alg, "value": b64u(dek)})
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual(reply.json["kid"], self.kid)
            self.assertEqual(self.local_key.decrypt(unb64u(reply.json["value"]), pad()), dek)

    def test_round_trip_generated_keys_all_sizes(self):
        for size in (2048, 3072, 4096):
            name = f"rt-{size}"
            create(name, key_size=size)
            for alg in OAEP:
                w = kv("POST", f"/keys/{name}/wrapkey", {"alg": alg, "value": b64u(b"secret-dek-bytes")})
                self.assertEqual(w.status, 200)
                self.assertEqual(len(unb64u(w.json["value"])) * 8, size)
                u = kv("POST", f"/keys/{name}/unwrapkey", {"alg": alg, "value": w.json["value"]})
                self.assertEqual(unb64u(u.json["value"]), b"secret-dek-bytes")

    def test_path_casing_and_empty_version(self):
        for path in ("/keys/wrap-local/wrapKey", "/keys/wrap-local/WRAPKEY", "/keys/wrap-local//wrapkey",
                     f"/keys/wrap-local/{self.version}/wrapKey"):
            reply = kv("POST", path, {"alg": "RSA-OAEP", "value": b64u(b"abc")})
            self.assertEqual(reply.status, 200, path)
            self.assertEqual(reply.json["kid"], self.kid)

    def test_old_version_still_unwraps_after_rotation(self):
        create("rotating")
        before = kv("GET", "/keys/rotating").json["key"]["kid"]
        wrapped = kv("POST", "/keys/rotating/wrapkey", {"alg": "RSA-OAEP-256", "value": b64u(b"dek")}).json
        rotated = kv("POST", "/keys/rotating/rotate")
        self.assertEqual(rotated.status, 200)
        after = rotated.json["key"]["kid"]
        self.assertNotEqual(before, after)
        self.assertEqual(kv("GET", "/keys/rotating").json["key"]["kid"], after)
        old_version = wrapped["kid"].rsplit("/", 1)[1]
        reply = kv("POST", f"/keys/rotating/{old_version}/unwrapkey",
                   {"alg": "RSA-OAEP-256", "value": wrapped["value"]})
        self.assertEqual(unb64u(reply.json["value"]), b"dek")
        # The latest version cannot unwrap what the old one wrapped.
        reply = kv("POST", "/keys/rotating/unwrapkey", {"alg": "RSA-OAEP-256", "value": wrapped["value"]})
        self.assertEqual(reply.status, 400)

    def test_forbidden_without_unwrap_permission(self):
        wrapped = kv("POST", "/keys/wrap-local/wrapkey", {"alg": "RSA-OAEP", "value": b64u(b"k")},
                     token=W["wrap_tok"])
        self.assertEqual(wrapped.status, 200)
        reply = kv("POST", "/keys/wrap-local/unwrapkey", {"alg": "RSA-OAEP", "value": wrapped.json["value"]},
                   token=W["wrap_tok"])
        self.assertEqual(reply.status, 403)
        err = reply.json["error"]
        self.assertEqual(err["code"], "Forbidden")
        self.assertEqual(err["innererror"], {"code": "AccessDenied"})
        ident = W["wrap"]
        self.assertEqual(
            err["message"],
            f"The user, group or application 'appid={ident['client_id']};oid={ident['object_id']};"
            f"iss=https://sts.windows.net/{ident['tenant_id']}/' does not have keys unwrapKey permission on "
            f"key vault '{VAULT};location=eastus'. For help resolving this issue, please see "
            "https://go.microsoft.com/fwlink/?linkid=2125287")

    def test_permission_checked_before_existence(self):
        reply = kv("POST", "/keys/no-such-key/unwrapkey", {"alg": "RSA-OAEP", "value": "AA"}, token=W["wrap_tok"])
        self.assertEqual(reply.status, 403)

    def test_operation_not_in_key_ops(self):
        create("wrap-only-key", key_ops=["wrapKey"])
        w = kv("POST", "/keys/wrap-only-key/wrapkey", {"alg": "RSA-OAEP", "value": b64u(b"k")})
        reply = kv("POST", "/keys/wrap-only-key/unwrapkey", {"alg": "RSA-OAEP", "value": w.json["value"]})
        self.assertEqual(reply.status, 403)
        self.assertEqual(reply.json["error"]["message"], "Operation unwrapKey is not permitted on this key.")
        self.assertEqual(reply.json["error"]["innererror"]["code"], "KeyOperationForbidden")

    def test_bad_requests(self):
        cases = [
            ({"alg": "A256KW", "value": b64u(b"k")}, "algorithm"),
            ({"alg": "RSA-OAEP", "value": b64u(os.urandom(256))}, "Error occurred while decoding OAEP padding."),
            ({"alg": "RSA-OAEP", "value": "!!not base64!!"}, "not base64url"),
            ({"alg": "RSA-OAEP"}, "'value' is required"),
            ({"value": "AA"}, "'alg' is required"),
        ]
        for body, fragment in cases:
            reply = kv("POST", "/keys/wrap-local/unwrapkey", body)
            self.assertEqual(reply.status, 400, body)
            self.assertEqual(reply.json["error"]["code"], "BadParameter")
            self.assertIn(fragment, reply.json["error"]["message"])
        reply = kv("POST", "/keys/wrap-local/unwrapkey", b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual(reply.status, 400)

    def test_encrypt_decrypt_sign_verify(self):
        data = b"hello"
        enc = kv("POST", "/keys/wrap-local/encrypt", {"alg": "RSA-OAEP-256", "value": b64u(data)})
        dec = kv("POST", "/keys/wrap-local/decrypt", {"alg": "RSA-OAEP-256", "value": enc.json["value"]})
        self.assertEqual(unb64u(dec.json["value"]), data)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(data)
        digest = digest.finalize()
        for alg in ("RS256", "PS256"):
            sig = kv("POST", "/keys/wrap-local/sign", {"alg": alg, "value": b64u(digest)})
            self.assertEqual(sig.status, 200)
            ok = kv("POST", "/keys/wrap-local/verify", {"alg": alg, "digest": b64u(digest), "value": sig.json["value"]})
            self.assertEqual(ok.json, {"value": True})
            pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
            self.local_key.public_key().verify(unb64u(sig.json["value"]), digest, pad,
                                               utils.Prehashed(hashes.SHA256()))
        bundle = create("signer", kty="EC", crv="P-256")
        sig = kv("POST", "/keys/signer/sign", {"alg": "ES256", "value": b64u(digest)})
        raw = unb64u(sig.json["value"])
        self.assertEqual(len(raw), 64)
        x, y = (int.from_bytes(unb64u(bundle["key"][c]), "big") for c in ("x", "y"))
        pub = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        pub.verify(utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                   digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        bad = kv("POST", "/keys/signer/verify", {"alg": "ES256", "digest": b64u(digest), "value": b64u(b"\0" * 64)})
        self.assertEqual(bad.json, {"value": False})


class RoutingTests(unittest.TestCase):
    def test_unknown_vault_fails_tls_handshake(self):
        conn = EMU.connection("no-such-vault.vault.azure.net", fresh=True)
        with self.assertRaises(ssl.SSLError) as ctx:
            conn.request("GET", "/keys?api-version=7.4")
            conn.getresponse()
        self.assertIn("UNRECOGNIZED_NAME", str(ctx.exception).upper())

    def test_unknown_vault_host_header_closes_connection(self):
        import http.client
        conn = http.client.HTTPSConnection("127.0.0.1", EMU.port, context=EMU.ctx, timeout=10)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            conn.request("GET", "/keys?api-version=7.4", headers={"Host": "no-such-vault.vault.azure.net"})
            conn.getresponse()
        conn.close()

    def test_localhost_vault(self):
        reply = EMU.request("GET", f"https://127.0.0.1:{EMU.port}/keys?api-version=7.4", token=W["tok"])
        self.assertEqual(reply.status, 200)
        created = EMU.request("POST", f"https://127.0.0.1:{EMU.port}/keys/lk/create?api-version=7.4",
                              body={"kty": "EC"}, token=W["tok"])
        self.assertEqual(created.status, 200)
        # kid names the host the client used, port included.
        self.assertTrue(created.json["key"]["kid"].startswith(f"https://127.0.0.1:{EMU.port}/keys/lk/"))

    def test_other_vault_suffixes(self):
        for host in (f"{VAULT}.vault.azure.cn", f"{VAULT}.vault.usgovcloudapi.net"):
            reply = EMU.request("GET", f"https://{host}/keys?api-version=7.4", token="")
            self.assertEqual(reply.status, 401, host)
            self.assertIn(f'resource="https://{host.split(".", 1)[1]}"', reply.header("WWW-Authenticate"))

    def test_keep_alive_reuses_connection(self):
        conn = EMU.connection(f"{VAULT}.vault.azure.net", fresh=True)
        kv("GET", "/keys")
        sock = conn.sock
        for _ in range(3):
            self.assertEqual(kv("GET", "/keys").status, 200)
        self.assertIs(conn.sock, sock)

    def test_managed_hsm_shape(self):
        EMU.admin("add-vault", "--name", "hsm1", "--hsm", "--retention-days", "7")
        # Managed HSM: local RBAC, not access policies (test_mhsm.py).
        EMU.admin("hsm-assign-role", "--vault", "hsm1", "--identity", "full-access",
                  "--role", "Managed HSM Crypto User")
        url = "https://hsm1.managedhsm.azure.net/keys/hk/create?api-version=7.4"
        challenge = EMU.request("POST", url, body={"kty": "RSA-HSM"}, token="")
        self.assertIn('resource="https://managedhsm.azure.net"', challenge.header("WWW-Authenticate"))
        token = EMU.token(W["full"], scope="https://managedhsm.azure.net/.default")
        reply = EMU.request("POST", url, body={"kty": "RSA-HSM"}, token=token)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(list(reply.json), ["attributes", "key"])
        self.assertEqual(reply.json["attributes"]["recoveryLevel"], "CustomizedRecoverable+Purgeable")
        self.assertEqual(reply.json["attributes"]["recoverableDays"], 7)
        self.assertIs(reply.json["attributes"]["exportable"], False)


class RbacTests(unittest.TestCase):
    def test_key_scoped_role(self):
        EMU.admin("add-vault", "--name", "kvrbac", "--rbac")
        EMU.admin("assign-role", "--vault", "kvrbac", "--identity", "full-access", "--role", "Key Vault Crypto Officer")
        EMU.admin("assign-role", "--vault", "kvrbac", "--identity", "wrap-only",
                  "--role", "Key Vault Crypto Service Encryption User", "--key", "cmk")
        for name in ("cmk", "other"):
            self.assertEqual(kv("POST", f"/keys/{name}/create", {"kty": "RSA"}, vault="kvrbac").status, 200)
        wrapped = kv("POST", "/keys/cmk/wrapkey", {"alg": "RSA-OAEP", "value": b64u(b"k")},
                     vault="kvrbac", token=W["wrap_tok"])
        self.assertEqual(wrapped.status, 200)
        unwrapped = kv("POST", "/keys/cmk/unwrapkey", {"alg": "RSA-OAEP", "value": wrapped.json["value"]},
                       vault="kvrbac", token=W["wrap_tok"])
        self.assertEqual(unb64u(unwrapped.json["value"]), b"k")
        self.assertEqual(kv("GET", "/keys/cmk", vault="kvrbac", token=W["wrap_tok"]).status, 200)
        denied = kv("POST", "/keys/other/wrapkey", {"alg": "RSA-OAEP", "value": b64u(b"k")},
                    vault="kvrbac", token=W["wrap_tok"])
        self.assertEqual(denied.status, 403)
        self.assertEqual(denied.json["error"]["innererror"]["code"], "ForbiddenByRbac")
        self.assertIn("Action: 'Microsoft.KeyVault/vaults/keys/wrap/action'", denied.json["error"]["message"])
        self.assertEqual(kv("POST", "/keys/cmk/sign", {"alg": "RS256", "value": b64u(b"x" * 32)},
                            vault="kvrbac", token=W["wrap_tok"]).status, 403)


class AdminTests(unittest.TestCase):
    def test_admin_errors_exit_nonzero(self):
        proc = EMU.admin("set-policy", "--vault", "nope", "--identity", "x", "--keys", "get", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("unknown vault", proc.stderr)
        proc = EMU.admin("set-policy", "--vault", VAULT, "--identity", "x", "--keys", "fly", check=False)
        self.assertNotEqual(proc.returncode, 0)
        proc = EMU.admin("add-vault", "--name", VAULT, check=False)
        self.assertNotEqual(proc.returncode, 0)

    def test_admin_without_running_emulator(self):
        import subprocess
        import tempfile
        from emutest import EMULATOR, PYTHON
        with tempfile.TemporaryDirectory() as d:
            proc = subprocess.run([PYTHON, EMULATOR, "admin", "--state-dir", d, "show-tenant"],
                                  capture_output=True, text=True)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no running emulator", proc.stderr)

    def test_identity_with_given_ids(self):
        ident = EMU.admin("add-identity", "--name", "fixed", "--client-id", "0a0a0a0a-1111-2222-3333-444444444444",
                          "--client-secret", "s3cret")
        self.assertEqual(set(ident), {"name", "client_id", "object_id", "tenant_id", "client_secret"})
        self.assertEqual(ident["client_secret"], "s3cret")
        self.assertEqual(ident["tenant_id"], W["tenant"]["tenant_id"])
        self.assertTrue(EMU.token(ident))

    def test_empty_policy_removes_access(self):
        ident = EMU.admin("add-identity", "--name", "temp")
        EMU.admin("set-policy", "--vault", VAULT, "--identity", "temp", "--keys", "list")
        token = EMU.token(ident)
        self.assertEqual(kv("GET", "/keys", token=token).status, 200)
        self.assertEqual(EMU.admin("set-policy", "--vault", VAULT, "--identity", "temp", "--keys", "")["keys"], [])
        self.assertEqual(kv("GET", "/keys", token=token).status, 403)

    def test_create_key_cli(self):
        bundle = EMU.admin("create-key", "--vault", VAULT, "--name", "cli-key", "--kty", "RSA", "--size", "3072",
                           "--ops", "wrapKey,unwrapKey", "--disabled", "--tag", "env=test")
        self.assertEqual(bundle["key"]["key_ops"], ["wrapKey", "unwrapKey"])
        self.assertFalse(bundle["attributes"]["enabled"])
        self.assertEqual(bundle["tags"], {"env": "test"})
        self.assertEqual(len(unb64u(bundle["key"]["n"])), 384)

    def test_faults_hook(self):
        EMU.admin("fault", "--add", json.dumps({"service": "keyvault", "status": 429, "retry_after": 1,
                                                "count": 1, "path_regex": "^/keys$"}))
        reply = kv("GET", "/keys")
        self.assertEqual(reply.status, 429)
        self.assertEqual(reply.header("Retry-After"), "1")
        self.assertEqual(kv("GET", "/keys").status, 200)
        self.assertEqual(EMU.admin("fault", "--list")["value"], [])


class PersistenceTests(unittest.TestCase):
    def test_state_survives_restart_and_sigterm_exits_zero(self):
        emu = Emulator().start()
        try:
            tenant = emu.admin("show-tenant")
            ident = emu.admin("add-identity", "--name", "p")
            emu.admin("add-vault", "--name", "kvpersist")
            emu.admin("set-policy", "--vault", "kvpersist", "--identity", "p", "--keys", "get")
            bundle = emu.admin("create-key", "--vault", "kvpersist", "--name", "kept")
            ca_before = read(emu.ca_file)
            self.assertEqual(emu.stop(), 0)
            self.assertFalse(os.path.exists(os.path.join(emu.state_dir, "emulator.json")))
            emu.start()
            self.assertEqual(emu.admin("show-tenant"), tenant)
            self.assertEqual(read(emu.ca_file), ca_before)
            token = emu.token(ident)
            reply = emu.request("GET", vault_url("kvpersist", "/keys/kept"), token=token)
            self.assertEqual(reply.json["key"]["kid"], bundle["key"]["kid"])
            self.assertEqual(emu.stop(signal.SIGINT), 0)
        finally:
            emu.cleanup()

    def test_keys_made_in_one_batch_are_listed_and_kept(self):
        # The bench's vault of 1,000 keys (tests/bench/run.sh) is made this way: one state
        # write for the list, where one request per key rewrote the whole state each time.
        emu = Emulator().start()
        try:
            ident = emu.admin("add-identity", "--name", "b")
            emu.admin("add-vault", "--name", "kvbatch")
            emu.admin("set-policy", "--vault", "kvbatch", "--identity", "b", "--keys", "get,list")
            made = emu.admin_api("POST", "/vaults/kvbatch/keys", {"keys": [
                {"name": f"batch-{i}", "kty": "EC", "crv": "P-256"} for i in range(30)]})
            self.assertEqual(len(made["value"]), 30)
            admin = f"https://127.0.0.1:{emu.port}/_emulator/vaults/kvbatch/keys"
            reply = emu.request("POST", admin, body={"keys": [
                {"name": "batch-ok", "kty": "EC"}, {"name": "batch-bad", "kty": "DSA"}]})
            self.assertEqual(reply.status, 400)
            self.assertIn("unsupported kty", reply.json["error"]["message"])
            self.assertEqual(emu.request("POST", admin, body={"keys": "batch-x"}).status, 400)
            emu.stop()
            emu.start()
            token = emu.token(ident)
            names, url = [], vault_url("kvbatch", "/keys", maxresults=25)
            while url:
                page = emu.request("GET", url, token=token).json
                names += [item["kid"].rsplit("/", 1)[1] for item in page["value"]]
                url = page.get("nextLink")
            self.assertEqual(sorted(names), sorted([f"batch-{i}" for i in range(30)] + ["batch-ok"]))
        finally:
            emu.cleanup()

    def test_workers_serve_one_state_and_only_read_through_the_admin_api(self):
        # serve --workers (the bench's b, tests/bench/run.sh): the vault answers from every
        # process; a change would land in one process's copy only, so the admin API refuses it.
        emu = Emulator()
        try:
            emu.start()
            ident = emu.admin("add-identity", "--name", "w")
            emu.admin("add-vault", "--name", "kvworkers")
            emu.admin("set-policy", "--vault", "kvworkers", "--identity", "w", "--keys", "get")
            emu.admin("create-key", "--vault", "kvworkers", "--name", "k", "--kty", "EC")
            emu.stop()
            emu.extra_args = ["--workers", "3"]
            emu.start()
            children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(emu.proc.pid)],
                                      capture_output=True, text=True).stdout.split()
            self.assertEqual(len(children), 2)
            token = emu.token(ident)
            for _ in range(30):  # new connections, whichever process accepts each
                emu.close_connections()
                self.assertEqual(emu.request("GET", vault_url("kvworkers", "/keys/k"), token=token).status, 200)
            admin = f"https://127.0.0.1:{emu.port}/_emulator"
            self.assertEqual(emu.request("GET", admin + "/health").status, 200)
            reply = emu.request("POST", admin + "/vaults", body={"name": "kvnew"})
            self.assertEqual(reply.status, 409)
            self.assertIn("only reads", reply.json["error"]["message"])
            self.assertEqual(emu.stop(), 0)
            for pid in children:
                self.assertFalse(os.path.exists(f"/proc/{pid}"), f"worker {pid} outlived the emulator")
        finally:
            emu.cleanup()

    def test_default_tenant_option(self):
        emu = Emulator(["--default-tenant", "12345678-1234-1234-1234-123456789abc"]).start()
        try:
            self.assertEqual(emu.admin("show-tenant")["tenant_id"], "12345678-1234-1234-1234-123456789abc")
        finally:
            emu.cleanup()

    def test_log_has_no_secrets(self):
        log = EMU.read_log()
        self.assertIn("GET kvtest.vault.azure.net/keys", log)
        self.assertNotIn(W["tok"][:40], log)
        self.assertNotIn(W["full"]["client_secret"], log)
        self.assertIsNone(re.search(r"eyJ[A-Za-z0-9_-]{20,}", log))


def read(path):
    with open(path) as fh:
        return fh.read()


if __name__ == "__main__":
    unittest.main(verbosity=2)
