#!/usr/bin/python3
"""Replay real Key Vault traffic (tests/recordings) against the emulator and check
that it answers with the same status and the same JSON shape: the same member
names, recursively, with the same JSON types. Values (ids, key material, times)
obviously differ. If the emulator's wire format drifts, this test fails.

Each recording file gets its own vault (Managed HSM when the recording talks to
*.managedhsm.azure.net) and is replayed in order. Request bodies were not
recorded, so each request is rebuilt from what the recorded response shows:
a create that answered an RSA-3072 key with tags {"a": "b"} is replayed as
such a create. Replayed kinds: create, import, get (and its 404), list keys and
list versions (walking the emulator's own pages), rotate, update, wrapkey /
unwrapkey, encrypt / decrypt, sign / verify, delete, deleted keys, recover,
purge, rotation policy, and the 401 challenge.
Not replayed: backup/restore/release/rng (not emulated), $skiptoken requests
(the recorded tokens are the service's; the emulator's own pages are walked
instead), and GET /deletedkeys 404s while a deletion was still in progress
(the emulator deletes at once).
"""

import glob
import json
import os
import re
import unittest
from urllib.parse import parse_qs, urlsplit

from emutest import Emulator

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDINGS = os.path.join(HERE, "..", "recordings")

EMU = None
IDENT = None
TOKENS = {}
VERSION_RE = re.compile(r"^[0-9a-f]{32}$")
SIGN_ALG = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "P-256K": "ES256K"}
DIGEST_LEN = {"ES256": 32, "ES384": 48, "ES512": 64, "ES256K": 32, "RS256": 32}


# ---- shapes ---------------------------------------------------------------------------------

def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_diff(recorded, actual, path="$"):
    """Differences in member names and JSON types between two documents.
    Arrays of scalars compare by element type; arrays of objects compare every
    actual element with the recorded elements (it must match one of them)."""
    rt, at = json_type(recorded), json_type(actual)
    if rt != at:
        return [f"{path}: recorded {rt}, emulator {at}"]
    if rt == "object":
        diffs = []
        for name in sorted(set(recorded) | set(actual)):
            if name not in actual:
                diffs.append(f"{path}.{name}: missing in emulator answer")
            elif name not in recorded:
                diffs.append(f"{path}.{name}: not in recorded answer")
            else:
                diffs += shape_diff(recorded[name], actual[name], f"{path}.{name}")
        return diffs
    if rt == "array" and recorded and actual:
        diffs = []
        for i, item in enumerate(actual):
            candidates = [shape_diff(r, item, f"{path}[{i}]") for r in recorded]
            if all(candidates):
                diffs += min(candidates, key=len)
        return diffs
    return []


def list_page_diff(recorded_pages, page, path="$"):
    """A list page: {"value": [...], "nextLink": string|null}; each item must have
    the shape of some item the recorded pages of that call had."""
    diffs = []
    if set(page) != {"value", "nextLink"}:
        diffs.append(f"{path}: members {sorted(page)} instead of ['nextLink', 'value']")
    if json_type(page.get("nextLink")) not in ("string", "null"):
        diffs.append(f"{path}.nextLink: not a string or null")
    elif page.get("nextLink") and not re.match(r"^https://[^/]+:443/", page["nextLink"]):
        diffs.append(f"{path}.nextLink: {page['nextLink']} does not name port 443")
    recorded_items = [it for p in recorded_pages for it in p.get("value", [])]
    if recorded_items:
        diffs += shape_diff(recorded_items, page.get("value", []), f"{path}.value")
    return diffs


# ---- recordings -------------------------------------------------------------------------------

class Call:
    def __init__(self, rec):
        resp = rec["Response"]
        self.method = rec["Method"].upper()
        url = rec.get("Url") or rec.get("Uri")
        parts = urlsplit(url)
        self.host = parts.hostname
        self.path = parts.path
        self.query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.status = int(resp.get("STATUS_CODE") or resp.get("StatusCode"))
        body = resp.get("BODY") if "BODY" in resp else resp.get("Body")
        try:
            self.body = json.loads(body) if body else None
        except ValueError:
            self.body = None
        self.headers = {k.lower(): v for k, v in resp.items() if isinstance(v, str)}

    @property
    def hsm(self):
        return self.host.endswith(".managedhsm.azure.net")


def load(path):
    with open(path) as fh:
        return [Call(r) for r in json.load(fh)["networkCallRecords"]]


def recording_files():
    return sorted(glob.glob(os.path.join(RECORDINGS, "*", "*.json")))


# ---- replay -----------------------------------------------------------------------------------

class Replayer:
    """Replays one recording file against its own vault; collects shape differences."""

    def __init__(self, testcase, vault, hsm, calls):
        self.t = testcase
        self.vault = vault
        self.hsm = hsm
        self.calls = calls
        self.host = f"{vault}.{'managedhsm' if hsm else 'vault'}.azure.net"
        self.token = TOKENS["hsm" if hsm else "vault"]
        self.versions = {}      # recorded version -> emulator version
        self.produced = {}      # (key name, wrapkey|encrypt) -> last emulator output
        self.backups = {}       # key name -> the emulator's backup blob
        self.known = set()      # key names this replay created (others belonged to other tests)
        self.diffs = []
        self.replayed = 0

    def send(self, method, path, query, body=None, token=True):
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        url = f"https://{self.host}{path}" + (f"?{qs}" if qs else "")
        return EMU.request(method, url, body=body, token=self.token if token else "")

    def note(self, call, message):
        self.diffs.append(f"{call.method} {call.path} ({call.status}): {message}")

    def map_path(self, path):
        """Recorded versions in the path -> the emulator's; None if unknown here."""
        out = []
        for seg in path.split("/"):
            if VERSION_RE.match(seg):
                if seg not in self.versions:
                    return None
                seg = self.versions[seg]
            out.append(seg)
        return "/".join(out)

    def remember_version(self, recorded_kid, actual_kid):
        rv, av = recorded_kid.rsplit("/", 1)[1], actual_kid.rsplit("/", 1)[1]
        if VERSION_RE.match(rv):
            self.versions[rv] = av

    def compare(self, call, reply):
        if reply.status != call.status:
            self.note(call, f"status {reply.status} (recorded {call.status}): {reply.raw[:200]!r}")
            return False
        if call.body is not None and reply.json is not None:
            for diff in shape_diff(call.body, reply.json):
                self.note(call, diff)
        elif call.body is not None:
            self.note(call, "emulator answered without a JSON body")
        self.replayed += 1
        return True

    # -- request builders (from the recorded response) --

    @staticmethod
    def create_body(bundle):
        key, attrs = bundle["key"], bundle.get("attributes", {})
        body = {"kty": key["kty"], "key_ops": key["key_ops"]}
        if "n" in key:
            body["key_size"] = _rsa_bits(key["n"])
        if "crv" in key and "n" not in key:
            body["crv"] = key["crv"]
        body["attributes"] = {k: attrs[k] for k in ("enabled", "nbf", "exp", "exportable") if k in attrs}
        if bundle.get("tags"):
            body["tags"] = bundle["tags"]
        if bundle.get("release_policy"):
            body["release_policy"] = bundle["release_policy"]
        return body

    def import_body(self, bundle):
        """A fresh private key of the recorded type, with the recorded public extras."""
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        key = bundle["key"]
        if "n" in key:
            priv = rsa.generate_private_key(public_exponent=65537, key_size=_rsa_bits(key["n"]))
            n = priv.private_numbers()
            jwk = {"kty": key["kty"], "n": _b64i(n.public_numbers.n), "e": _b64i(n.public_numbers.e),
                   "d": _b64i(n.d), "p": _b64i(n.p), "q": _b64i(n.q), "dp": _b64i(n.dmp1),
                   "dq": _b64i(n.dmq1), "qi": _b64i(n.iqmp)}
            if "crv" in key:
                jwk["crv"] = key["crv"]
        else:
            curves = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1, "P-256K": ec.SECP256K1}
            priv = ec.generate_private_key(curves[key["crv"]]())
            n = priv.private_numbers()
            jwk = {"kty": key["kty"], "crv": key["crv"], "x": _b64i(n.public_numbers.x),
                   "y": _b64i(n.public_numbers.y), "d": _b64i(n.private_value)}
        jwk["key_ops"] = key["key_ops"]
        body = {"key": jwk}
        attrs = bundle.get("attributes", {})
        body["attributes"] = {k: attrs[k] for k in ("enabled", "nbf", "exp") if k in attrs}
        if bundle.get("tags"):
            body["tags"] = bundle["tags"]
        return body

    # -- the replay loop --

    def run(self):
        for index, call in enumerate(self.calls):
            handler = self.dispatch(call)
            if handler is None:
                continue
            name = key_name_of(call.path)
            creates = handler in (self.create, self.import_key, self.restore)
            if name and not creates and name not in self.known and call.status != 404:
                continue  # a key left in the recorded vault by some other test
            handler(index, call)
        return self.diffs

    def dispatch(self, call):
        p, m = call.path.rstrip("/") if call.path != "/" else call.path, call.method
        if "$skiptoken" in call.query:
            return None
        if call.status == 401:
            return self.challenge
        if re.match(r"^/keys/[^/]+/create$", p) and m == "POST":
            return self.create if call.status == 200 else None
        if p == "/keys/restore" and m == "POST":
            return self.restore if call.status == 200 else None
        if re.match(r"^/keys/[^/]+/backup$", p) and m == "POST":
            return self.backup
        if re.search(r"/release$", p, re.I):
            return None
        if re.match(r"^/keys$", p) and m == "GET":
            return self.list_pages
        if re.match(r"^/keys/[^/]+/versions$", p) and m == "GET":
            return self.list_pages
        if re.match(r"^/keys/[^/]+/rotate$", p) and m == "POST":
            return self.rotate
        if re.match(r"^/keys/[^/]+/rotationpolicy$", p):
            return self.rotation_policy
        if re.search(r"/(wrapkey|unwrapkey|encrypt|decrypt|sign|verify)$", p, re.I) and m == "POST":
            return self.crypto
        if re.match(r"^/keys/[^/]+$", p) and m == "PUT":
            return self.import_key
        if re.match(r"^/keys/[^/]+(/[^/]*)?$", p) and m in ("GET", "PATCH", "DELETE"):
            return self.simple
        if p == "/deletedkeys" and m == "GET":
            return self.list_pages
        if re.match(r"^/deletedkeys/[^/]+(/recover)?$", p):
            # While a deletion is in progress the service answers 404; the emulator deletes at once.
            return None if (m == "GET" and call.status == 404) else self.simple
        return None

    def challenge(self, index, call):
        reply = self.send(call.method, call.path, call.query, body={} if call.method != "GET" else None, token=False)
        if reply.status != 401:
            self.note(call, f"status {reply.status} (recorded 401)")
            return
        recorded, actual = call.headers.get("www-authenticate", ""), reply.header("WWW-Authenticate") or ""
        pattern = r'^Bearer authorization="https://[^"]+/[0-9a-f-]{36}", resource="https://[^"]+"$'
        for name, value in (("recorded", recorded), ("emulator", actual)):
            if not re.match(pattern, value):
                self.note(call, f"{name} WWW-Authenticate {value!r} not of the form {pattern}")
        self.replayed += 1

    def create(self, index, call):
        reply = self.send("POST", call.path, call.query, self.create_body(call.body))
        if self.compare(call, reply):
            self.known.add(key_name_of(call.path))
            self.remember_version(call.body["key"]["kid"], reply.json["key"]["kid"])

    def backup(self, index, call):
        reply = self.send("POST", call.path, call.query)
        if self.compare(call, reply):
            self.backups[key_name_of(call.path)] = reply.json["value"]

    def restore(self, index, call):
        name = key_name_of(urlsplit(call.body["key"]["kid"]).path)
        if name not in self.backups:
            return
        reply = self.send("POST", call.path, call.query, {"value": self.backups[name]})
        if self.compare(call, reply):
            self.known.add(name)

    def import_key(self, index, call):
        if call.status != 200:
            return
        reply = self.send("PUT", call.path, call.query, self.import_body(call.body))
        if self.compare(call, reply):
            self.known.add(key_name_of(call.path))
            self.remember_version(call.body["key"]["kid"], reply.json["key"]["kid"])

    def rotate(self, index, call):
        reply = self.send("POST", call.path, call.query)
        if self.compare(call, reply) and call.status == 200:
            self.remember_version(call.body["key"]["kid"], reply.json["key"]["kid"])

    def rotation_policy(self, index, call):
        body = None
        if call.method == "PUT" and call.body:
            body = {"lifetimeActions": call.body.get("lifetimeActions", []),
                    "attributes": {k: v for k, v in call.body.get("attributes", {}).items() if k == "expiryTime"}}
        self.compare(call, self.send(call.method, call.path, call.query, body))

    def simple(self, index, call):
        path = self.map_path(call.path)
        if path is None:
            return  # a version created outside this recording
        body = None
        if call.method == "PATCH":
            body = {"attributes": {k: call.body["attributes"][k] for k in ("enabled", "nbf", "exp")
                                   if k in call.body.get("attributes", {})}} if call.body else {}
            if call.body and call.body.get("tags"):
                body["tags"] = call.body["tags"]
        if call.method == "POST":
            body = {}
        reply = self.send(call.method, path, call.query, body)
        self.compare(call, reply)
        if reply.status == 200 and call.body and isinstance(call.body.get("key"), dict):
            self.remember_version(call.body["key"]["kid"], reply.json["key"]["kid"])

    def list_pages(self, index, call):
        """The first page of a recorded listing: walk all of the emulator's pages."""
        recorded_pages = [call.body]
        for later in self.calls[index + 1:]:
            if later.path == call.path and "$skiptoken" in later.query and later.body:
                recorded_pages.append(later.body)
        reply = self.send("GET", call.path, call.query)
        pages = 0
        while True:
            if reply.status != call.status or reply.json is None:
                self.note(call, f"status {reply.status} (recorded {call.status})")
                return
            for diff in list_page_diff(recorded_pages, reply.json, f"$[page {pages}]"):
                self.note(call, diff)
            pages += 1
            next_link = reply.json.get("nextLink")
            if not next_link or pages > 50:
                break
            reply = EMU.request("GET", next_link, token=self.token)
        self.replayed += 1

    def crypto(self, index, call):
        path = self.map_path(call.path)
        if path is None:
            return
        op = path.rsplit("/", 1)[1].lower()
        key_path = path.rsplit("/", 1)[0].rstrip("/")
        key_name = key_path.split("/")[2].lower()
        key = self.send("GET", key_path, call.query)
        if key.status != 200:
            self.note(call, f"key for replay not found: {key.status}")
            return
        alg = SIGN_ALG.get(key.json["key"].get("crv"), "RS256") if op in ("sign", "verify") else "RSA-OAEP"
        if op in ("wrapkey", "encrypt"):
            body = {"alg": alg, "value": _b64(os.urandom(16))}
        elif op in ("unwrapkey", "decrypt"):
            # Undo what this replay produced at the matching earlier step (or produce it now).
            producer = "wrapkey" if op == "unwrapkey" else "encrypt"
            value = self.produced.get((key_name, producer))
            if value is None:
                value = self.send("POST", f"{key_path}/{producer}", call.query,
                                  {"alg": alg, "value": _b64(os.urandom(16))}).json["value"]
            body = {"alg": alg, "value": value}
        elif op == "sign":
            body = {"alg": alg, "value": _b64(os.urandom(DIGEST_LEN[alg]))}
        else:  # verify: check a signature made over a fresh digest
            digest = _b64(os.urandom(DIGEST_LEN[alg]))
            sig = self.send("POST", f"{key_path}/sign", call.query, {"alg": alg, "value": digest})
            body = {"alg": alg, "digest": digest, "value": sig.json["value"]}
        reply = self.send("POST", path, call.query, body)
        if self.compare(call, reply) and op in ("wrapkey", "encrypt"):
            self.produced[(key_name, op)] = reply.json["value"]

def key_name_of(path):
    """Lower-case key name in /keys/NAME/... or /deletedkeys/NAME/..., else None."""
    m = re.match(r"^/(?:keys|deletedkeys)/([^/]+)", path)
    if not m or m.group(1).lower() == "restore":
        return None
    return m.group(1).lower()


def _b64(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64i(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _rsa_bits(n_b64: str) -> int:
    import base64
    n = base64.urlsafe_b64decode(n_b64 + "=" * (-len(n_b64) % 4))
    return min((2048, 3072, 4096), key=lambda s: abs(s - len(n) * 8))


# ---- tests ------------------------------------------------------------------------------------

def setUpModule():
    global EMU, IDENT
    EMU = Emulator().start()
    IDENT = EMU.admin("add-identity", "--name", "replayer")
    TOKENS["vault"] = EMU.token(IDENT)
    TOKENS["hsm"] = EMU.token(IDENT, scope="https://managedhsm.azure.net/.default")


def tearDownModule():
    if EMU:
        EMU.cleanup()


class ShapeComparatorTests(unittest.TestCase):
    """The comparator itself must catch drift, or the replay proves nothing."""

    recorded = {"key": {"kid": "k", "kty": "RSA", "key_ops": ["sign"], "n": "x", "e": "AQAB"},
                "attributes": {"enabled": True, "created": 1, "recoverableDays": 90}}

    def test_identical_shapes_pass(self):
        actual = json.loads(json.dumps(self.recorded))
        actual["key"]["n"] = "different value"
        self.assertEqual(shape_diff(self.recorded, actual), [])

    def test_missing_extra_and_retyped_members_fail(self):
        actual = json.loads(json.dumps(self.recorded))
        del actual["key"]["e"]
        actual["attributes"]["recoverableDays"] = "90"
        actual["managed"] = False
        diffs = shape_diff(self.recorded, actual)
        self.assertEqual(len(diffs), 3, diffs)

    def test_list_item_shapes(self):
        page = {"value": [{"kid": "a", "attributes": {"enabled": True}}], "nextLink": None}
        good = {"value": [{"kid": "b", "attributes": {"enabled": False}}],
                "nextLink": "https://v.vault.azure.net:443/keys?api-version=7.4&$skiptoken=x"}
        self.assertEqual(list_page_diff([page], good), [])
        bad = {"value": [{"kid": "b", "attributes": {}}], "nextLink": "https://v.vault.azure.net/keys"}
        self.assertEqual(len(list_page_diff([page], bad)), 2)


class RecordingReplayTests(unittest.TestCase):
    maxDiff = None


def _make_test(path, index):
    def test(self):
        calls = load(path)
        hsm = any(c.hsm for c in calls)
        vault = f"rec{index}"
        EMU.admin_api("POST", "/vaults", {"name": vault, "kind": "managedhsm" if hsm else "vault",
                                          "retention_days": 7 if hsm else 90})
        if hsm:
            # Managed HSM: local RBAC roles at "/" (it has no access policies).
            for role in ("Managed HSM Crypto User", "Managed HSM Crypto Officer"):
                EMU.admin_api("POST", f"/vaults/{vault}/hsm-role-assignments",
                              {"identity": "replayer", "role": role})
        else:
            EMU.admin_api("PUT", f"/vaults/{vault}/access-policies/replayer", {"keys": ["all"]})
        replayer = Replayer(self, vault, hsm, calls)
        diffs = replayer.run()
        self.assertEqual(diffs, [], f"{os.path.basename(path)}: emulator differs from the recording")
        if replayer.replayed == 0:
            self.skipTest("nothing in this recording is emulated (e.g. rng)")
    return test


for _i, _path in enumerate(recording_files()):
    _name = "test_" + re.sub(r"\W+", "_", os.path.relpath(_path, RECORDINGS)[:-5])
    setattr(RecordingReplayTests, _name, _make_test(_path, _i))


if __name__ == "__main__":
    unittest.main(verbosity=1)
