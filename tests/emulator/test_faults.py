#!/usr/bin/python3
"""Fault injection (azkvemu/faults.py), a test-only mode: each kind of fault as a client
sees it on the wire, probabilistic rules with a seeded RNG, the counts the soak reports,
and eight clients served at once; and the request log (azkvemu/request_log.py) the tests
read to show what each request carried and how it ended, faults included; and Key Vault's
transaction limits (azkvemu/limits.py, off unless turned on). Runs its own emulator."""

import http.client
import json
import threading
import time
import unittest

from emutest import ConnectToHTTPSConnection, Emulator, vault_url

EMU = None
W = {}
VAULT = "kvfaults"
HOST = f"{VAULT}.vault.azure.net"


def setUpModule():
    global EMU
    EMU = Emulator().start()
    ident = EMU.admin("add-identity", "--name", "faulty")
    EMU.admin("add-vault", "--name", VAULT)
    EMU.admin("set-policy", "--vault", VAULT, "--identity", "faulty", "--keys", "all")
    W["tok"] = EMU.token(ident)


def tearDownModule():
    if EMU:
        EMU.cleanup()


def fresh_request(method, path, body=None):
    """One request on a connection of its own, with no retry (EMU.request retries a
    reset once): returns (connection, response) with the body still unread."""
    conn = ConnectToHTTPSConnection(HOST, EMU.port, EMU.ctx, timeout=30)
    url = vault_url(VAULT, path)
    target = url[url.index("/", len("https://")):]
    headers = {"Authorization": "Bearer " + W["tok"]}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, target, body=payload, headers=headers)
    return conn, conn.getresponse()


def get_keys():
    conn, resp = fresh_request("GET", "/keys")
    try:
        resp.read()
        return resp.status
    finally:
        conn.close()


def add_rule(**rule):
    rule.setdefault("service", "keyvault")
    return EMU.admin_api("POST", "/faults", rule)


class FaultKindTests(unittest.TestCase):
    def setUp(self):
        EMU.admin_api("DELETE", "/faults")
        EMU.admin_api("PUT", "/faults/seed", {"seed": 1})

    def tearDown(self):
        EMU.admin_api("DELETE", "/faults")

    def test_status_with_retry_after(self):
        add_rule(status=429, retry_after=2, count=1, path_regex="^/keys$")
        conn, resp = fresh_request("GET", "/keys")
        self.assertEqual(resp.status, 429)
        self.assertEqual(resp.getheader("Retry-After"), "2")
        self.assertEqual(json.loads(resp.read())["error"]["code"], "Throttled")
        conn.close()
        self.assertEqual(get_keys(), 200)  # count 1: the rule is gone
        self.assertEqual(EMU.admin_api("GET", "/faults")["value"], [])
        self.assertEqual(EMU.admin_api("GET", "/faults/stats")["injected"], {"429": 1})

    def test_drop_closes_without_an_answer(self):
        # "drop": true, the older spelling of kind drop (credentials.sh uses it).
        rule = add_rule(drop=True, count=1, method="POST", path_regex="^/keys/dropped/create$")
        self.assertEqual(rule["kind"], "drop")
        with self.assertRaises(http.client.RemoteDisconnected):
            fresh_request("POST", "/keys/dropped/create", {"kty": "RSA"})
        # The service never saw it: no key.
        conn, resp = fresh_request("GET", "/keys/dropped")
        self.assertEqual(resp.status, 404)
        conn.close()

    def test_reset_after_the_service_handled_it(self):
        add_rule(kind="reset", count=1, method="POST", path_regex="^/keys/resetkey/create$")
        with self.assertRaises(ConnectionResetError):
            fresh_request("POST", "/keys/resetkey/create", {"kty": "RSA"})
        # The request was applied although the client never heard back.
        conn, resp = fresh_request("GET", "/keys/resetkey")
        self.assertEqual(resp.status, 200)
        conn.close()
        self.assertEqual(EMU.admin_api("GET", "/faults/stats")["injected"], {"reset": 1})

    def test_truncate_announces_the_full_length_and_sends_half(self):
        add_rule(kind="truncate", count=1, path_regex="^/keys$")
        conn, resp = fresh_request("GET", "/keys")
        self.assertEqual(resp.status, 200)
        announced = int(resp.getheader("Content-Length"))
        self.assertIsNone(resp.getheader("Connection"))  # no warning: a lost connection
        with self.assertRaises(http.client.IncompleteRead) as cut:
            resp.read()
        self.assertEqual(len(cut.exception.partial), announced // 2)
        conn.close()
        self.assertEqual(get_keys(), 200)

    def test_slow_answers_no_sooner_than_the_delay(self):
        add_rule(kind="slow", delay_ms=300, count=1, path_regex="^/keys$")
        started = time.monotonic()
        self.assertEqual(get_keys(), 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(EMU.admin_api("GET", "/faults/stats")["injected"], {"slow": 1})

    def test_bad_rules_are_refused(self):
        for rule in ({"kind": "melt"}, {"kind": "slow"}, {"kind": "slow", "delay_ms": -1},
                     {"probability": 1.5}, {"probability": "half"}, {"status": 200},
                     {"service": "dns"}, {"path_regex": "("}):
            reply = EMU.request("POST", f"https://127.0.0.1:{EMU.port}/_emulator/faults", body=rule)
            self.assertEqual(reply.status, 400, rule)
        reply = EMU.request("PUT", f"https://127.0.0.1:{EMU.port}/_emulator/faults/seed", body={"seed": "x"})
        self.assertEqual(reply.status, 400)
        self.assertEqual(EMU.admin_api("GET", "/faults")["value"], [])

    def test_cli_stats_and_seed(self):
        self.assertEqual(EMU.admin("fault", "--seed", "7")["seed"], 7)
        self.assertEqual(get_keys(), 200)
        stats = EMU.admin("fault", "--stats")
        self.assertEqual(stats["requests"], {"keyvault": 1})
        self.assertEqual(stats["injected_total"], 0)


class ProbabilityTests(unittest.TestCase):
    """Rules with a probability share one seeded draw per request."""

    KINDS = [{"status": 429, "retry_after": 0}, {"status": 503}, {"kind": "slow", "delay_ms": 1}]

    def setUp(self):
        EMU.admin_api("DELETE", "/faults")

    def tearDown(self):
        EMU.admin_api("DELETE", "/faults")

    def run_requests(self, seed, n, probability):
        EMU.admin_api("DELETE", "/faults")
        EMU.admin_api("PUT", "/faults/seed", {"seed": seed})
        for kind in self.KINDS:
            add_rule(path_regex="^/keys$", method="GET", probability=probability, **kind)
        seen = []
        for _ in range(n):
            reply = EMU.request("GET", vault_url(VAULT, "/keys"), token=W["tok"])
            seen.append(reply.status)
        return seen, EMU.admin_api("GET", "/faults/stats"), EMU.admin_api("GET", "/faults")["value"]

    def test_same_seed_same_faults(self):
        first, stats, rules = self.run_requests(seed=42, n=120, probability=0.1)
        again, stats2, _ = self.run_requests(seed=42, n=120, probability=0.1)
        self.assertEqual(first, again)
        self.assertEqual(stats, stats2)
        self.assertEqual(stats["seed"], 42)
        # What the client saw is what the emulator counted.
        self.assertEqual(stats["injected"].get("429", 0), first.count(429))
        self.assertEqual(stats["injected"].get("503", 0), first.count(503))
        self.assertEqual(stats["injected_total"],
                         first.count(429) + first.count(503) + stats["injected"].get("slow", 0))
        # Every rule looked at every request; the injected ones add up.
        self.assertEqual([r["seen"] for r in rules], [120, 120, 120])
        self.assertEqual(sum(r["injected"] for r in rules), stats["injected_total"])
        # Three slices of 0.1: with this seed, between a sixth and a half of the requests.
        self.assertTrue(20 <= stats["injected_total"] <= 60, stats)
        other, _, _ = self.run_requests(seed=43, n=120, probability=0.1)
        self.assertNotEqual(first, other)

    def test_probability_zero_and_one(self):
        seen, stats, _ = self.run_requests(seed=5, n=10, probability=0)
        self.assertEqual(seen, [200] * 10)
        self.assertEqual(stats["injected_total"], 0)
        seen, stats, _ = self.run_requests(seed=5, n=10, probability=1)
        self.assertEqual(seen, [429] * 10)  # the first rule's slice is all of [0, 1)
        self.assertEqual(stats["requests"]["keyvault"], 10)


class ConcurrencyTests(unittest.TestCase):
    def tearDown(self):
        EMU.admin_api("DELETE", "/faults")

    def test_eight_clients_at_once(self):
        # Each request waits 3 s inside the emulator: all eight must be inside together
        # (a server that handled one at a time would have answered some before the last came in).
        rule = add_rule(kind="slow", delay_ms=3000, path_regex="^/keys$")
        statuses = []
        lock = threading.Lock()

        def client():
            status = get_keys()
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        inside = 0
        while time.monotonic() < deadline:
            inside = next(r["seen"] for r in EMU.admin_api("GET", "/faults")["value"] if r["id"] == rule["id"])
            if inside == 8:
                break
            time.sleep(0.05)
        with lock:
            answered_before_the_last_came_in = len(statuses)
        for t in threads:
            t.join(60)
        self.assertEqual(inside, 8)
        self.assertEqual(answered_before_the_last_came_in, 0)
        self.assertEqual(statuses, [200] * 8)


class RequestLogTests(unittest.TestCase):
    def setUp(self):
        EMU.admin_api("DELETE", "/faults")
        EMU.admin_api("DELETE", "/requests")

    def tearDown(self):
        EMU.admin_api("DELETE", "/faults")

    def test_what_each_request_carried_and_how_it_ended(self):
        conn = ConnectToHTTPSConnection(HOST, EMU.port, EMU.ctx, timeout=30)
        conn.request("GET", "/keys?api-version=7.5")  # no token: the 401 challenge
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 401)
        challenge_id = resp.getheader("x-ms-request-id")
        conn.close()
        conn, resp = fresh_request("POST", "/keys/logged/create", {"kty": "RSA"})
        self.assertEqual(resp.status, 200)
        resp.read()
        create_id = resp.getheader("x-ms-request-id")
        conn.close()
        # Each answer's own id (Key Vault's, a UUID: ../shared/recordings), logged with it.
        self.assertRegex(challenge_id, r"^[0-9a-f-]{36}$")
        self.assertRegex(create_id, r"^[0-9a-f-]{36}$")
        self.assertNotEqual(challenge_id, create_id)
        add_rule(kind="drop", count=1, method="GET", path_regex="^/keys/logged$")
        with self.assertRaises(http.client.RemoteDisconnected):
            fresh_request("GET", "/keys/logged")
        entries = EMU.admin_api("GET", "/requests")["value"]  # the admin API is left out
        self.assertEqual(entries, [
            {"host": HOST, "method": "GET", "path": "/keys", "authorization": False,
             "body": False, "status": 401, "request_id": challenge_id, "outcome": None},
            {"host": HOST, "method": "POST", "path": "/keys/logged/create", "authorization": True,
             "body": True, "status": 200, "request_id": create_id, "outcome": None},
            {"host": HOST, "method": "GET", "path": "/keys/logged", "authorization": True,
             "body": False, "status": None, "request_id": None, "outcome": "closed"},
        ])
        # emulator.log: the same three, one line each, never a value.
        with open(EMU.log_path, errors="replace") as fh:
            text = fh.read()
        self.assertRegex(text, rf"GET {HOST}/keys 401 \d+ms\n")
        self.assertRegex(text, rf"POST {HOST}/keys/logged/create 200 \d+ms \+auth \+body\n")
        self.assertRegex(text, rf"GET {HOST}/keys/logged -> connection closed \+auth\n")
        self.assertNotIn(W["tok"], text)
        self.assertEqual(EMU.admin_api("DELETE", "/requests"), {"value": []})
        self.assertEqual(EMU.admin_api("GET", "/requests")["value"], [])


class LimitsTests(unittest.TestCase):
    """Key Vault's limits as "Azure Key Vault service limits" states them
    (learn.microsoft.com/azure/key-vault/general/service-limits): per vault, in 10 s,
    20 software-key creates, 250 transactions on an RSA-4096 HSM key, weighted into one sum."""

    def setUp(self):
        EMU.admin_api("DELETE", "/faults")

    def tearDown(self):
        EMU.admin_api("PUT", "/limits", {"enabled": False})

    def _post_create(self, name):
        conn, resp = fresh_request("POST", f"/keys/{name}/create", {"kty": "EC", "crv": "P-256"})
        body = resp.read()
        conn.close()
        return resp, body

    def test_off_unless_turned_on(self):
        self.assertEqual(EMU.admin_api("GET", "/limits")["enabled"], False)
        self.assertEqual(EMU.admin("limits", "on")["enabled"], True)
        self.assertEqual(EMU.admin("limits", "off")["enabled"], False)

    def test_the_21st_software_key_create_in_10_s_gets_429(self):
        EMU.admin_api("PUT", "/limits", {"enabled": True})
        for i in range(20):
            resp, _ = self._post_create(f"lim{i}")
            self.assertEqual(resp.status, 200, i)
        resp, body = self._post_create("lim20")
        self.assertEqual(resp.status, 429)
        self.assertIn(int(resp.getheader("Retry-After")), range(1, 11))
        self.assertEqual(json.loads(body)["error"]["code"], "Throttled")
        # A throttled request costs nothing, and the key was not made.
        self.assertEqual(EMU.admin_api("GET", "/limits")["throttled"], 1)
        EMU.admin_api("PUT", "/limits", {"enabled": False})
        conn, resp = fresh_request("GET", "/keys/lim20")
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 404)

    def test_rsa_4096_hsm_key_allows_250_transactions(self):
        EMU.admin("create-key", "--vault", VAULT, "--name", "big", "--kty", "RSA-HSM", "--size", "4096")
        EMU.admin_api("PUT", "/limits", {"enabled": True})
        statuses = [EMU.request("GET", vault_url(VAULT, "/keys/big"), token=W["tok"]).status
                    for _ in range(251)]
        self.assertEqual(statuses[:250], [200] * 250)
        self.assertEqual(statuses[250], 429)


if __name__ == "__main__":
    unittest.main()
