#!/usr/bin/python3
"""Identity everywhere (issue 14): Entra's certificate, subject-name-and-issuer and federated
client assertions, the test OIDC issuer, the App Service / Functions / Container Apps and
Azure Arc managed-identity endpoints, IMDS as the SDKs probe it, and token lifetimes set at
run time. Each test names the source of the behaviour it checks."""

import base64
import datetime
import hashlib
import json
import os
import stat
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from emutest import Emulator, b64u, jwt_claims as claims_of, unb64u, vault_url

EMU = None
W = {}
LOGIN = "https://login.microsoftonline.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
VAULT_SCOPE = "https://vault.azure.net/.default"
VAULT = "kvident"


def sign_jwt(key, header: dict, claims: dict, salt_length=32) -> str:
    """A JWT as MSAL builds a client assertion: RS256 (PKCS#1 v1.5) or PS256 (PSS, MGF1-SHA256,
    32-byte salt: jsonwebtoken/jwa RSA_PSS_SALTLEN_DIGEST, which MSAL Node uses)."""
    head = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
    if header["alg"] == "PS256":
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt_length)
    else:
        pad = padding.PKCS1v15()
    return head + "." + b64u(key.sign(head.encode(), pad, hashes.SHA256()))


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_cert(key, subject, issuer_key=None, issuer_cert=None, ca=False, days=30, start_days=-1):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    start = datetime.datetime.utcnow() + datetime.timedelta(days=start_days)
    return (x509.CertificateBuilder().subject_name(name)
            .issuer_name(issuer_cert.subject if issuer_cert else name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key or key, hashes.SHA256()))


def der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem(obj) -> str:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def token_endpoint(tenant=None, host="login.microsoftonline.com", v2=True):
    tenant = tenant or W["tenant"]["tenant_id"]
    return f"https://{host}/{tenant}/oauth2/{'v2.0/' if v2 else ''}token"


def assertion_claims(client_id, aud=None, **over):
    now = int(time.time())
    claims = {"aud": aud or token_endpoint(), "exp": now + 600, "iss": client_id, "jti": os.urandom(8).hex(),
              "nbf": now, "sub": client_id}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def exchange(client_id, assertion, url=None, scope=VAULT_SCOPE, **extra):
    form = {"grant_type": "client_credentials", "client_id": client_id, "scope": scope,
            "client_assertion_type": JWT_BEARER, "client_assertion": assertion}
    form.update(extra)
    form = {k: v for k, v in form.items() if v is not None}
    return EMU.request("POST", url or token_endpoint(), form=form)


def assert_aadsts(test, reply, status, error, code, text=None):
    test.assertEqual(reply.status, status, reply)
    test.assertEqual(reply.json["error"], error, reply)
    test.assertEqual(reply.json["error_codes"], [code], reply)
    test.assertTrue(reply.json["error_description"].startswith(f"AADSTS{code}: "), reply)
    if text:
        test.assertIn(text, reply.json["error_description"])


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["tenant"] = EMU.admin("show-tenant")
    EMU.admin("add-vault", "--name", VAULT)


def tearDownModule():
    if EMU:
        EMU.cleanup()


class CertificateCredentialTests(unittest.TestCase):
    """learn.microsoft.com/entra/identity-platform/certificate-credentials: header alg + x5t /
    x5t#S256, claims aud (token endpoint), exp, iss = sub = client id, jti, nbf."""

    @classmethod
    def setUpClass(cls):
        cls.app = EMU.admin("add-identity", "--name", "cert-app")
        EMU.admin("set-policy", "--vault", VAULT, "--identity", "cert-app", "--keys", "list")
        cls.key = new_key()
        cls.cert = make_cert(cls.key, "cert-app")
        path = os.path.join(EMU.state_dir, "cert-app.pem")
        with open(path, "w") as fh:
            fh.write(pem(cls.cert) + pem(cls.key))   # the key in the file is not sent
        cls.registered = EMU.admin("add-certificate", "--identity", "cert-app", "--pem", path)
        cls.cid = cls.app["client_id"]

    def header(self, alg="PS256", **extra):
        h = {"alg": alg, "typ": "JWT"}
        if alg == "PS256":
            h["x5t#S256"] = b64u(hashlib.sha256(der(self.cert)).digest())
        else:
            h["x5t"] = b64u(hashlib.sha1(der(self.cert)).digest())
        h.update(extra)
        return h

    def test_admin_prints_the_thumbprints(self):
        # The portal shows SHA-1 hex; x5t / x5t#S256 are base64url SHA-1 / SHA-256 of the DER.
        r = self.registered
        self.assertEqual(r["thumbprint"], hashlib.sha1(der(self.cert)).hexdigest().upper())
        self.assertEqual(r["thumbprint_sha256"], hashlib.sha256(der(self.cert)).hexdigest().upper())
        self.assertEqual(r["x5t"], b64u(hashlib.sha1(der(self.cert)).digest()))
        self.assertEqual(r["x5t#S256"], b64u(hashlib.sha256(der(self.cert)).digest()))
        self.assertEqual(r["subject"], "CN=cert-app")
        again = EMU.admin("add-certificate", "--identity", "cert-app", "--pem",
                          os.path.join(EMU.state_dir, "cert-app.pem"), check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("already registered", again.stderr)

    def test_ps256_with_x5t_s256_gets_a_token_that_opens_the_vault(self):
        # What MSAL Node sends (ClientAssertion.ts: PS256 and x5t#S256 when given a SHA-256 thumbprint).
        r = exchange(self.cid, sign_jwt(self.key, self.header("PS256"), assertion_claims(self.cid)))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(claims_of(r.json["access_token"])["appid"], self.cid)
        self.assertEqual(r.json["expires_in"], 3599)
        self.assertEqual(EMU.request("GET", vault_url(VAULT, "/keys"), token=r.json["access_token"]).status, 200)

    def test_rs256_with_x5t_on_the_v1_endpoint(self):
        # The ADAL-era endpoint and its aud (/oauth2/token); answer members are strings there.
        aud = token_endpoint(v2=False)
        a = sign_jwt(self.key, self.header("RS256"), assertion_claims(self.cid, aud=aud))
        r = EMU.request("POST", aud, form={"grant_type": "client_credentials", "client_id": self.cid,
                                           "resource": "https://vault.azure.net", "client_assertion_type": JWT_BEARER,
                                           "client_assertion": a})
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(r.json["expires_in"], str)

    def test_aud_may_name_the_host_used_and_the_tenant_domain(self):
        # MSAL puts the discovered token_endpoint (the authority it was given) in aud.
        host = f"127.0.0.1:{EMU.port}"
        aud = token_endpoint(tenant=W["tenant"]["domain"], host=host)
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, aud=aud))
        self.assertEqual(exchange(self.cid, a, url=aud).status, 200)
        # the v1 form of aud is accepted on the v2 endpoint too
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, aud=token_endpoint(v2=False)))
        self.assertEqual(exchange(self.cid, a).status, 200)

    def test_unregistered_certificate_is_700027_naming_the_thumbprint(self):
        # Wording: learn.microsoft.com Q&A 5915574; microsoft-authentication-library-for-js issue 8339.
        other = make_cert(new_key(), "cert-app")
        h = {"alg": "PS256", "typ": "JWT", "x5t#S256": b64u(hashlib.sha256(der(other)).digest())}
        r = exchange(self.cid, sign_jwt(self.key, h, assertion_claims(self.cid)))
        assert_aadsts(self, r, 401, "invalid_client", 700027,
                      "The certificate with identifier used to sign the client assertion is not registered on "
                      "application. [Reason - The key was not found., Thumbprint of key used by client: "
                      f"'{hashlib.sha256(der(other)).hexdigest().upper()}', Please visit the Azure Portal")
        self.assertIn(f"configured keys for app Id '{self.cid}'", r.json["error_description"])
        # no thumbprint at all: the same refusal without the thumbprint clause
        r = exchange(self.cid, sign_jwt(self.key, {"alg": "RS256", "typ": "JWT"}, assertion_claims(self.cid)))
        assert_aadsts(self, r, 401, "invalid_client", 700027, "[Reason - The key was not found., Please visit")

    def test_signature_by_another_key_is_700027_key_found(self):
        # "[Reason - Key was found, but use of the key to verify the signature failed., ..., Found key
        # 'Start=..., End=...'" (msgraph-sdk-php issue 1585).
        r = exchange(self.cid, sign_jwt(new_key(), self.header(), assertion_claims(self.cid)))
        assert_aadsts(self, r, 401, "invalid_client", 700027,
                      "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key "
                      "to verify the signature failed., Thumbprint of key used by client: "
                      f"'{hashlib.sha256(der(self.cert)).hexdigest().upper()}', Found key 'Start=")

    def test_ps256_salt_must_be_the_digest_length(self):
        # MSAL Node's PS256 salt is 32 bytes (jwa RSA_PSS_SALTLEN_DIGEST); another salt does not verify.
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid), salt_length=padding.PSS.MAX_LENGTH)
        assert_aadsts(self, exchange(self.cid, a), 401, "invalid_client", 700027, "Key was found")

    def test_other_algorithms_are_refused(self):
        # AADSTS5002730 text: microsoft-authentication-library-for-dotnet issue 4712.
        token = sign_jwt(self.key, self.header("RS256"), assertion_claims(self.cid))
        forged = b64u(json.dumps(dict(self.header("RS256"), alg="ES256")).encode()) + token[token.index("."):]
        assert_aadsts(self, exchange(self.cid, forged), 400, "invalid_request", 5002730,
                      "Invalid JWT token. Unsupported key for the signing algorithm.")

    def test_expired_or_early_assertion_is_700024_with_entras_text(self):
        # Text: microsoft-authentication-library-for-java issue 984; leeway 300 s (IdentityModel default).
        now = int(time.time())
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, exp=now - 301, nbf=None))
        r = exchange(self.cid, a)
        assert_aadsts(self, r, 401, "invalid_client", 700024,
                      "Client assertion is not within its valid time range. Current time: ")
        self.assertRegex(r.json["error_description"],
                         r"assertion valid from 1970-01-01T00:00:00\.0000000Z, expiry time of assertion "
                         r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.0000000Z\. Review the documentation at "
                         r"https://learn\.microsoft\.com/entra/identity-platform/certificate-credentials \.")
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, nbf=now + 400, exp=now + 900))
        assert_aadsts(self, exchange(self.cid, a), 401, "invalid_client", 700024)
        # within the skew: accepted
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, exp=now - 100, nbf=now + 100))
        self.assertEqual(exchange(self.cid, a).status, 200)

    def test_claims_entra_checks(self):
        # sub must equal iss: AADSTS50048 (microsoft-authentication-library-for-java issue 430).
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, sub="someone-else"))
        assert_aadsts(self, exchange(self.cid, a), 400, "invalid_request", 50048,
                      "Subject must match the issuer claim in the client assertion.")
        # aud must be the token endpoint (the emulator's wording, not confirmed)
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, aud="https://example.com/token"))
        assert_aadsts(self, exchange(self.cid, a), 400, "invalid_request", 50013)
        # a list aud is malformed (panva/openid-client issue 348)
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, aud=[token_endpoint()]))
        assert_aadsts(self, exchange(self.cid, a), 400, "invalid_request", 50027,
                      "JWT token is invalid or malformed.")
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid, jti=None))
        assert_aadsts(self, exchange(self.cid, a), 400, "invalid_request", 50027)
        assert_aadsts(self, exchange(self.cid, "not.a.jwt"), 400, "invalid_request", 50027)

    def test_assertion_type(self):
        a = sign_jwt(self.key, self.header(), assertion_claims(self.cid))
        assert_aadsts(self, exchange(self.cid, a, client_assertion_type=""), 400, "invalid_request", 900144,
                      "'client_assertion_type'")
        # azure-activedirectory-library-for-ruby PR 53
        assert_aadsts(self, exchange(self.cid, a, client_assertion_type="urn:x"), 400, "invalid_request", 90011,
                      "Unexpected client assertion type.")
        assert_aadsts(self, exchange(self.cid, ""), 400, "invalid_request", 900144, "'client_assertion'")

    def test_expired_registered_certificate(self):
        # "[Reason - The key used is expired. ... Found key 'Start=..., End=...'" (Microsoft troubleshooting).
        key = new_key()
        old = make_cert(key, "old", days=2, start_days=-10)
        path = os.path.join(EMU.state_dir, "old.pem")
        with open(path, "w") as fh:
            fh.write(pem(old))
        EMU.admin("add-certificate", "--identity", "cert-app", "--pem", path)
        h = {"alg": "RS256", "typ": "JWT", "x5t": b64u(hashlib.sha1(der(old)).digest())}
        assert_aadsts(self, exchange(self.cid, sign_jwt(key, h, assertion_claims(self.cid))), 401, "invalid_client",
                      700027, "[Reason - The key used is expired., Thumbprint of key used by client:")

    def test_generated_certificate(self):
        out = EMU.admin("add-certificate", "--identity", "cert-app", "--generate", "--subject", "CN=gen")
        key = serialization.load_pem_private_key(out["private_key"].encode(), None)
        cert = x509.load_pem_x509_certificate(out["certificate"].encode())
        self.assertEqual(cert.subject.rfc4514_string(), "CN=gen")
        h = {"alg": "PS256", "typ": "JWT", "x5t#S256": out["x5t#S256"]}
        self.assertEqual(exchange(self.cid, sign_jwt(key, h, assertion_claims(self.cid))).status, 200)


class SubjectNameIssuerTests(unittest.TestCase):
    """Subject name + issuer: x5c (standard base64 DER, leaf first; RFC 7515 4.1.6, MSAL's
    sendX5C) from a CA the app trusts for that subject; the certificate is registered nowhere."""

    @classmethod
    def setUpClass(cls):
        cls.app = EMU.admin("add-identity", "--name", "sni-app")
        cls.cid = cls.app["client_id"]
        out = EMU.admin("trust-subject", "--identity", "sni-app", "--subject", "CN=sni.contoso.com")
        assert out["subject"] == "CN=sni.contoso.com", out
        cls.issued = EMU.admin("issue-certificate", "--subject", "CN=sni.contoso.com")
        cls.key = serialization.load_pem_private_key(cls.issued["private_key"].encode(), None)
        cls.leaf = x509.load_pem_x509_certificate(cls.issued["certificate"].encode())
        with open(EMU.ca_file, "rb") as fh:
            cls.ca = x509.load_pem_x509_certificate(fh.read())

    def assertion(self, key, chain):
        h = {"alg": "PS256", "typ": "JWT", "x5t#S256": b64u(hashlib.sha256(der(chain[0])).digest()),
             "x5c": [base64.b64encode(der(c)).decode() for c in chain]}
        return sign_jwt(key, h, assertion_claims(self.cid))

    def test_chain_to_the_test_ca(self):
        self.assertEqual(self.issued["chain"], pem(self.leaf) + pem(self.ca))
        for chain in ([self.leaf, self.ca], [self.leaf]):
            r = exchange(self.cid, self.assertion(self.key, chain))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(claims_of(r.json["access_token"])["appid"], self.cid)

    def test_other_subject_or_issuer_falls_back_to_registered_keys(self):
        # Without a trusted chain Entra looks the thumbprint up among the registered keys (issue 8339).
        other = EMU.admin("issue-certificate", "--subject", "CN=other.contoso.com")
        okey = serialization.load_pem_private_key(other["private_key"].encode(), None)
        oleaf = x509.load_pem_x509_certificate(other["certificate"].encode())
        assert_aadsts(self, exchange(self.cid, self.assertion(okey, [oleaf, self.ca])), 401, "invalid_client",
                      700027, "[Reason - The key was not found., Thumbprint of key used by client:")
        # right subject, but self-signed: no chain to the CA
        skey = new_key()
        selfsigned = make_cert(skey, "sni.contoso.com")
        assert_aadsts(self, exchange(self.cid, self.assertion(skey, [selfsigned])), 401, "invalid_client", 700027)
        # the leaf's key must have signed the assertion
        assert_aadsts(self, exchange(self.cid, self.assertion(new_key(), [self.leaf, self.ca])), 401,
                      "invalid_client", 700027, "Key was found, but use of the key to verify the signature failed.")

    def test_a_ca_given_when_trusting(self):
        app = EMU.admin("add-identity", "--name", "sni-own-ca")
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = make_cert(ca_key, "Contoso Root", ca=True, days=3650)
        path = os.path.join(EMU.state_dir, "contoso-ca.pem")
        with open(path, "w") as fh:
            fh.write(pem(ca))
        EMU.admin("trust-subject", "--identity", "sni-own-ca", "--subject", "CN=sni.contoso.com", "--ca", path)
        key = new_key()
        leaf = make_cert(key, "sni.contoso.com", issuer_key=ca_key, issuer_cert=ca)
        h = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der(leaf)).decode(),
                                                  base64.b64encode(der(ca)).decode()]}
        cid = app["client_id"]
        self.assertEqual(exchange(cid, sign_jwt(key, h, assertion_claims(cid))).status, 200)
        # the emulator's CA is not trusted for this app
        h = {"alg": "PS256", "typ": "JWT", "x5c": [base64.b64encode(der(self.leaf)).decode()]}
        assert_aadsts(self, exchange(cid, sign_jwt(self.key, h, assertion_claims(cid))), 401, "invalid_client", 700027)


class FederatedCredentialTests(unittest.TestCase):
    """Workload identity federation (learn.microsoft.com/entra/workload-id/workload-identity-
    federation): the app's federated identity credentials match the token's iss, sub and aud."""

    SUBJECT = "system:serviceaccount:apps:worker"

    @classmethod
    def setUpClass(cls):
        cls.app = EMU.admin("add-identity", "--name", "wi-app")
        cls.cid = cls.app["client_id"]
        cls.fic = EMU.admin("add-federated-credential", "--identity", "wi-app", "--subject", cls.SUBJECT)

    def test_exchange_a_federated_token(self):
        self.assertEqual(self.fic["issuer"], "https://oidc.azkv-emulator.test/")
        self.assertEqual(self.fic["audiences"], ["api://AzureADTokenExchange"])
        fed = EMU.admin("issue-federated-token", "--subject", self.SUBJECT)
        self.assertEqual(set(fed), {"token", "issuer", "subject", "audience", "exp"})
        self.assertEqual(claims_of(fed["token"])["aud"], "api://AzureADTokenExchange")
        r = exchange(self.cid, fed["token"])
        self.assertEqual(r.status, 200, r)
        claims = claims_of(r.json["access_token"])
        self.assertEqual((claims["appid"], claims["oid"]), (self.cid, self.app["object_id"]))
        # a user-assigned managed identity can carry federated credentials too
        mi = EMU.admin("add-identity", "--name", "wi-mi", "--managed")
        EMU.admin("add-federated-credential", "--identity", "wi-mi", "--subject", "repo:contoso/app:ref:main")
        fed = EMU.admin("issue-federated-token", "--subject", "repo:contoso/app:ref:main")
        self.assertEqual(exchange(mi["client_id"], fed["token"]).status, 200)

    def test_unknown_issuer_is_700211(self):
        # Azure/azure-workload-identity issue 1200 (2024).
        fed = EMU.admin("issue-federated-token", "--subject", self.SUBJECT, "--issuer", "https://other.example/")
        assert_aadsts(self, exchange(self.cid, fed["token"]), 401, "invalid_client", 700211,
                      "No matching federated identity record found for presented assertion issuer "
                      "'https://other.example/'. Please check your federated identity credential Subject, "
                      "Audience and Issuer against the presented assertion.")

    def test_unknown_subject_is_700213_and_case_matters(self):
        # dotnet/maui PR 31978; matching is case-sensitive (Entra breaking change, Azure/login issue 517).
        fed = EMU.admin("issue-federated-token", "--subject", self.SUBJECT.upper())
        assert_aadsts(self, exchange(self.cid, fed["token"]), 401, "invalid_client", 700213,
                      f"No matching federated identity record found for presented assertion subject "
                      f"'{self.SUBJECT.upper()}'. Check your federated identity credential Subject, Audience "
                      "and Issuer against the presented assertion. "
                      "https://learn.microsoft.com/entra/workload-id/workload-identity-federation")

    def test_wrong_audience_is_70021_naming_issuer_subject_audience(self):
        # Azure/azure-workload-identity issue 616: 400 invalid_request, the three values quoted.
        fed = EMU.admin("issue-federated-token", "--subject", self.SUBJECT, "--audience", "api://other")
        assert_aadsts(self, exchange(self.cid, fed["token"]), 400, "invalid_request", 70021,
                      "No matching federated identity record found for presented assertion. Assertion Issuer: "
                      f"'https://oidc.azkv-emulator.test/'. Assertion Subject: '{self.SUBJECT}'. "
                      "Assertion Audience: 'api://other'.")

    def test_expired_token_is_700024(self):
        fed = EMU.admin("issue-federated-token", "--subject", self.SUBJECT, "--lifetime", "-400")
        assert_aadsts(self, exchange(self.cid, fed["token"]), 401, "invalid_client", 700024,
                      "Client assertion is not within its valid time range.")

    def test_forged_token_is_refused(self):
        real = EMU.admin("issue-federated-token", "--subject", self.SUBJECT)
        header = json.loads(unb64u(real["token"].split(".")[0]))
        forged = sign_jwt(new_key(), header, claims_of(real["token"]))
        assert_aadsts(self, exchange(self.cid, forged), 401, "invalid_client", 700027, "Key was found")
        forged = sign_jwt(new_key(), dict(header, kid="nope"), claims_of(real["token"]))
        assert_aadsts(self, exchange(self.cid, forged), 401, "invalid_client", 700027, "The key was not found.")

    def test_another_trusted_issuer(self):
        issuer = "https://token.actions.githubusercontent.example/"
        EMU.admin("add-federated-credential", "--identity", "wi-app", "--subject", "repo:contoso/kv:ref:main",
                  "--issuer", issuer, "--audience", "api://custom")
        fed = EMU.admin("issue-federated-token", "--subject", "repo:contoso/kv:ref:main", "--issuer", issuer,
                        "--audience", "api://custom")
        self.assertEqual(exchange(self.cid, fed["token"]).status, 200)

    def test_credential_rules(self):
        # Graph: issuer + subject unique per app, one audience, https issuer.
        dup = EMU.admin("add-federated-credential", "--identity", "wi-app", "--subject", self.SUBJECT,
                        "--name", "again", check=False)
        self.assertEqual(dup.returncode, 1)
        self.assertIn("issuer and subject already exists", dup.stderr)
        bad = EMU.admin("add-federated-credential", "--identity", "wi-app", "--subject", "x",
                        "--issuer", "http://plain.example/", check=False)
        self.assertEqual(bad.returncode, 1)

    def test_issuer_discovery_and_keys(self):
        # An OIDC issuer publishes its discovery document and JWKS (OpenID Connect Discovery 1.0).
        for base in (f"https://127.0.0.1:{EMU.port}/_oidc", "https://oidc.azkv-emulator.test"):
            doc = EMU.request("GET", base + "/.well-known/openid-configuration")
            self.assertEqual(doc.status, 200, doc)
            self.assertEqual(doc.json["issuer"], "https://oidc.azkv-emulator.test/")
            keys = EMU.request("GET", doc.json["jwks_uri"])
            self.assertEqual(keys.status, 200, keys)
        self.assertEqual(doc.json["jwks_uri"], "https://oidc.azkv-emulator.test/keys")
        jwk = keys.json["keys"][0]
        token = EMU.admin("issue-federated-token", "--subject", "s")["token"]
        head, body, sig = token.split(".")
        self.assertEqual(json.loads(unb64u(head))["kid"], jwk["kid"])
        pub = rsa.RSAPublicNumbers(int.from_bytes(unb64u(jwk["e"]), "big"),
                                   int.from_bytes(unb64u(jwk["n"]), "big")).public_key()
        pub.verify(unb64u(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())


class AppServiceTests(unittest.TestCase):
    """learn.microsoft.com/azure/app-service/overview-managed-identity, "Using the REST protocol"."""

    @classmethod
    def setUpClass(cls):
        cls.sys_mi = EMU.admin("add-identity", "--name", "site-identity", "--managed")
        cls.user_mi = EMU.admin("add-identity", "--name", "site-uami", "--managed")
        cls.conf = EMU.admin("app-service", "--identity", "site-identity")
        EMU.admin("set-policy", "--vault", VAULT, "--identity", "site-identity", "--keys", "list")

    def get(self, header=True, conf=None, **query):
        conf = conf or self.conf
        q = {"api-version": "2019-08-01", "resource": "https://vault.azure.net"}
        q.update(query)
        q = {k: v for k, v in q.items() if v is not None}
        qs = "&".join(f"{k}={v}" for k, v in q.items())
        headers = {"X-IDENTITY-HEADER": conf["header"]} if header is True else (header or {})
        return EMU.request("GET", f"{conf['endpoint']}?{qs}", headers=headers)

    def test_admin_output(self):
        self.assertEqual(self.conf["endpoint"], f"https://127.0.0.1:{EMU.port}/msi/token")
        self.assertRegex(self.conf["header"], r"^[0-9a-f]{32}$")
        self.assertEqual(self.conf["client_id"], self.sys_mi["client_id"])

    def test_answer_shape_and_token(self):
        # The documented sample: access_token, expires_on as a string of epoch seconds, resource,
        # token_type, client_id, and nothing else.
        r = self.get()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(list(r.json), ["access_token", "expires_on", "resource", "token_type", "client_id"])
        self.assertRegex(r.json["expires_on"], r"^\d{10}$")
        self.assertEqual((r.json["resource"], r.json["token_type"], r.json["client_id"]),
                         ("https://vault.azure.net", "Bearer", self.sys_mi["client_id"]))
        claims = claims_of(r.json["access_token"])
        self.assertEqual(int(r.json["expires_on"]), claims["exp"])
        self.assertEqual(claims["exp"] - claims["iat"], 86400)   # managed-identity tokens: 24 h
        self.assertEqual(EMU.request("GET", vault_url(VAULT, "/keys"), token=r.json["access_token"]).status, 200)

    def test_selectors(self):
        uami_id = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                   "Microsoft.ManagedIdentity/userAssignedIdentities/site-uami")
        for name, value in (("client_id", self.user_mi["client_id"]), ("principal_id", self.user_mi["object_id"]),
                            ("object_id", self.user_mi["object_id"]), ("mi_res_id", uami_id)):
            r = self.get(**{name: value})
            self.assertEqual((r.status, r.json["client_id"]), (200, self.user_mi["client_id"]), (name, r))
        r = self.get(client_id=self.user_mi["client_id"], principal_id=self.user_mi["object_id"])
        self.assertEqual(r.status, 400, r)

    def test_unknown_identity(self):
        # azure-sdk-for-net issue 43691: {"statusCode":400,"message":"Unable to load the proper
        # Managed Identity.","correlationId":...}.
        r = self.get(client_id="00000000-1111-2222-3333-444444444444")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(list(r.json), ["statusCode", "message", "correlationId"])
        self.assertEqual((r.json["statusCode"], r.json["message"]), (400, "Unable to load the proper Managed Identity."))
        self.assertEqual(r.header("X-CORRELATION-ID"), r.json["correlationId"])

    def test_secret_header(self):
        for header in ({}, {"X-IDENTITY-HEADER": "wrong"}, {"secret": self.conf["header"]}):
            r = self.get(header=header)
            self.assertEqual((r.status, r.json["statusCode"]), (401, 401), (header, r))

    def test_other_refusals(self):
        self.assertEqual(self.get(resource=None).status, 400)
        self.assertEqual(self.get(**{"api-version": "2017-09-01"}).status, 400)
        self.assertEqual(self.get(resource="https://nothing.example.com").status, 400)
        self.assertEqual(self.get(**{"api-version": None}).status, 400)

    def test_secret_rotation(self):
        # "The value is rotated by the platform": after a new `admin app-service`, the old one fails.
        fresh = EMU.admin("app-service", "--identity", "site-identity")
        try:
            self.assertNotEqual(fresh["header"], self.conf["header"])
            self.assertEqual(self.get().status, 401)
            self.assertEqual(self.get(conf=fresh).status, 200)
        finally:
            type(self).conf = fresh

    def test_fault_injection(self):
        EMU.admin("fault", "--add", json.dumps({"service": "appservice", "status": 503, "count": 1}))
        self.assertEqual(self.get().status, 503)
        self.assertEqual(self.get().status, 200)


class ArcTests(unittest.TestCase):
    """learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication: the 401
    challenge naming a .key file, and the retry with Authorization: Basic <its contents>."""

    @classmethod
    def setUpClass(cls):
        cls.machine = EMU.admin("add-identity", "--name", "arc-machine", "--managed")
        cls.other = EMU.admin("add-identity", "--name", "arc-other", "--managed")
        cls.conf = EMU.admin("arc", "--identity", "arc-machine")

    def get(self, headers=None, **query):
        q = {"api-version": "2020-06-01", "resource": "https://management.azure.com/"}
        q.update(query)
        qs = "&".join(f"{k}={v}" for k, v in q.items())
        return EMU.request("GET", f"{self.conf['identity_endpoint']}?{qs}",
                           headers={"Metadata": "true"} if headers is None else headers)

    def challenge(self):
        r = self.get()
        self.assertEqual(r.status, 401, r)
        realm = r.header("Www-Authenticate")
        self.assertTrue(realm.startswith("Basic realm="), realm)
        return realm[len("Basic realm="):]

    def test_admin_output(self):
        base = f"https://127.0.0.1:{EMU.port}/_arc"
        self.assertEqual(self.conf["imds_endpoint"], base)
        self.assertEqual(self.conf["identity_endpoint"], base + "/metadata/identity/oauth2/token")
        self.assertEqual(self.conf["key_dir"], os.path.join(EMU.state_dir, "azcmagent-tokens"))

    def test_challenge_then_token(self):
        path = self.challenge()
        self.assertEqual(os.path.dirname(path), self.conf["key_dir"])
        self.assertRegex(os.path.basename(path), r"^[0-9a-f-]{36}\.key$")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as fh:
            secret = fh.read()
        r = self.get(headers={"Metadata": "true", "Authorization": f"Basic {secret}"})
        self.assertEqual(r.status, 200, r)
        # IMDS's answer: strings throughout
        self.assertEqual(set(r.json), {"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in",
                                       "not_before", "resource", "token_type"})
        self.assertTrue(all(isinstance(v, str) for v in r.json.values()))
        self.assertEqual(r.json["client_id"], self.machine["client_id"])
        self.assertEqual(claims_of(r.json["access_token"])["aud"], "https://management.azure.com/")
        # one token per secret: the file is gone, and the same secret gets a new challenge
        self.assertFalse(os.path.exists(path))
        r = self.get(headers={"Metadata": "true", "Authorization": f"Basic {secret}"})
        self.assertEqual(r.status, 401)
        self.assertNotEqual(r.header("Www-Authenticate"), f"Basic realm={path}")

    def test_wrong_secret_and_metadata(self):
        self.challenge()
        r = self.get(headers={"Metadata": "true", "Authorization": "Basic not-the-secret"})
        self.assertEqual(r.status, 401)
        self.assertIn("Basic realm=", r.header("Www-Authenticate"))
        r = self.get(headers={})
        self.assertEqual((r.status, r.json["error_description"]), (400, "Required metadata header not specified"))

    def test_user_assigned_selectors_are_ignored(self):
        # A classic agent answers with the machine's identity whatever the selector (MSAL Node AzureArc.ts).
        path = self.challenge()
        with open(path) as fh:
            secret = fh.read()
        r = self.get(headers={"Metadata": "true", "Authorization": f"Basic {secret}"},
                     client_id=self.other["client_id"])
        self.assertEqual((r.status, r.json["client_id"]), (200, self.machine["client_id"]), r)

    def test_fault_injection(self):
        EMU.admin("fault", "--add", json.dumps({"service": "arc", "status": 500, "count": 1}))
        self.assertEqual(self.get().status, 500)

    def test_token_dir_option(self):
        emu = Emulator(["--arc-token-dir", os.path.join(EMU.state_dir, "other-tokens")]).start()
        try:
            emu.admin("add-identity", "--name", "m", "--managed")
            conf = emu.admin("arc", "--identity", "m")
            self.assertEqual(conf["key_dir"], os.path.join(EMU.state_dir, "other-tokens"))
            r = emu.request("GET", conf["identity_endpoint"] + "?api-version=2020-06-01&resource=x",
                            headers={"Metadata": "true"})
            self.assertTrue(r.header("Www-Authenticate").startswith(f"Basic realm={conf['key_dir']}/"))
        finally:
            emu.cleanup()


class ImdsProbeTests(unittest.TestCase):
    """How the SDKs decide IMDS is there: @azure/identity imdsMsi.ts (GET without query or
    Metadata header; any answer counts) and azure-identity _credentials/imds.py (the token
    request without Metadata, 0.3 s timeout; any HTTP answer counts)."""

    def test_probes_get_an_immediate_400(self):
        url = f"https://127.0.0.1:{EMU.port}/metadata/identity/oauth2/token"
        for target in (url, url + "?api-version=2018-02-01&resource=https://vault.azure.net"):
            started = time.monotonic()
            r = EMU.request("GET", target, headers={"Accept": "application/json"})
            self.assertLess(time.monotonic() - started, 0.3)
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json, {"error": "invalid_request",
                                      "error_description": "Required metadata header not specified"})

    def test_fault_injection_reaches_imds(self):
        EMU.admin("fault", "--add", json.dumps({"service": "imds", "status": 429, "retry_after": 1, "count": 1}))
        url = f"https://127.0.0.1:{EMU.port}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x"
        r = EMU.request("GET", url, headers={"Metadata": "true"})
        self.assertEqual((r.status, r.header("Retry-After")), (429, "1"))
        bad = EMU.admin("fault", "--add", json.dumps({"service": "nosuch"}), check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("appservice", bad.stderr)


class TokenLifetimeTests(unittest.TestCase):
    """admin token-lifetime: tokens issued from now on by every issuer expire after N seconds."""

    def test_short_lifetime_everywhere_then_reset(self):
        app = EMU.admin("add-identity", "--name", "short-lived")
        mi = EMU.admin("add-identity", "--name", "short-mi", "--managed")
        EMU.admin("set-policy", "--vault", VAULT, "--identity", "short-lived", "--keys", "list")
        conf = EMU.admin_api("GET", "/app-service")
        if not conf["header"]:   # this test alone: arrange the endpoint (else leave it as the others set it)
            conf = EMU.admin("app-service", "--identity", "short-mi")
        self.assertEqual(EMU.admin("token-lifetime", "--seconds", "2"), {"override": 2, "entra": 2, "managed": 2})
        try:
            token = EMU.token(app)
            claims = claims_of(token)
            self.assertEqual(claims["exp"] - claims["iat"], 2)
            r = EMU.request("GET", f"https://127.0.0.1:{EMU.port}/metadata/identity/oauth2/token?"
                            f"api-version=2018-02-01&resource=https://vault.azure.net&client_id={mi['client_id']}",
                            headers={"Metadata": "true"})
            self.assertEqual(r.json["expires_in"], "2")
            r = EMU.request("GET", f"{conf['endpoint']}?api-version=2019-08-01&resource=https://vault.azure.net",
                            headers={"X-IDENTITY-HEADER": conf["header"]})
            c = claims_of(r.json["access_token"])
            self.assertEqual(c["exp"] - c["iat"], 2)
            url = vault_url(VAULT, "/keys")
            self.assertEqual(EMU.request("GET", url, token=token).status, 200)
            time.sleep(2.2)
            self.assertEqual(EMU.request("GET", url, token=token).status, 401)
        finally:
            reset = EMU.admin("token-lifetime", "--reset")
        self.assertEqual(reset, {"override": None, "entra": 3600, "managed": 86400})
        claims = claims_of(EMU.token(app))
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        bad = EMU.admin("token-lifetime", "--seconds", "0", check=False)
        self.assertEqual(bad.returncode, 1)


if __name__ == "__main__":
    unittest.main()
