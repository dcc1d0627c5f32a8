"""Fault injection (test-only): the one place where throttling (429), transient 5xx,
dropped or reset connections, truncated answers and slow answers are decided,
before a request reaches a service.

The router calls `FaultInjector.intercept(service, req)` for every request to an
emulated Azure service (never for the admin API) and, when a rule fires, lets the
returned `Fault` run the request (`Fault.apply`). Rules are added through the
admin API (/_emulator/faults). Key Vault's own per-vault transaction limits are
limits.py's (off unless turned on).

A rule: {"service": one of SERVICES or "*", "method": "POST"|null, "path_regex": "...",
         "kind": "status" (default) | "drop" | "reset" | "truncate" | "slow",
         "status": 429, "retry_after": 1,     kind status: the answer instead of the service's
         "delay_ms": 1500,                    kind slow: the service's answer, that much later
         "count": 2,                          how many times it fires (null: until removed)
         "probability": 0.01}                 fires for that share of matching requests (null: all)
`"drop": true` is the older spelling of kind drop. The kinds:
  status    an error answer (Key Vault's envelope; Retry-After when retry_after is set);
  drop      the connection is closed without an answer, the service never sees the request;
  reset     the service handles the request, then the connection is reset (TCP RST) instead
            of the answer: the client cannot tell whether the request was applied;
  truncate  the service's answer with its full Content-Length, cut after half the body, then
            the connection is closed (a connection lost mid-answer);
  slow      the service's answer, delay_ms later.

Probabilistic rules share one draw per request from a seeded RNG: a request fires the
first matching rule whose slice of [0, 1) holds the draw (slices laid end to end in rule
order), so rules of 0.01 each over the same requests make exactly their sum. The seed
(`PUT /_emulator/faults/seed`) fixes the sequence of draws: one client in one order
gets the same faults on every run. Every rule counts the requests it looked at (`seen`,
whether it fired or not) and those it failed (`injected`); `stats()` counts requests
per service and injected faults per kind ("429", "503", "reset", ...).
Test-only: "code" and "message" (kind status) replace the error body's defaults, so
that a test can serve hostile text (a newline and a forged log line, terminal escape
sequences) and check that clients show it escaped.
"www_authenticate" (test-only, with status 401) is the challenge to send: a hostile vault
asking for a token for another resource or tenant.
"""

import os
import random
import time

from .httpmsg import DropConnection, ResetConnection, Response, json_response
from .rules import RuleList, bad_rule, matches, request_match, spend
from .util import new_uuid

# The emulated services a rule can name (the router's names for them): Key Vault, Entra ID,
# Resource Manager, IMDS, the Foundry data plane, the App Service / Functions / Container Apps
# identity endpoint, the Azure Arc agent, the test OIDC issuer.
SERVICES = ("keyvault", "entra", "arm", "imds", "foundry", "appservice", "arc", "oidc")

KINDS = ("status", "drop", "reset", "truncate", "slow")

# A slow answer must stay a slow answer, not a test that hangs: the module's own
# timeout (http.timeout_ms) decides whether it is too slow.
MAX_DELAY_MS = 60000

_DEFAULT_MESSAGES = {
    429: ("Throttled", "Request was not processed because too many requests were received. "
                       "Reason: A rate limit was reached."),
    500: ("InternalServerError", "The service encountered an internal error."),
    502: ("BadGateway", "The gateway did not receive a response in time."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
    504: ("GatewayTimeout", "The gateway did not receive a response in time."),
}


def _number(spec, name, lo, hi, integer):
    value = spec.get(name)
    if value is None:
        return None
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not lo <= value <= hi:
        raise bad_rule(f"{name} must be a {'whole ' if integer else ''}number from {lo} to {hi}")
    return value


class Fault:
    """A rule that fired for one request: `apply(call)` runs (or not) the service's
    handler `call` and returns the Response to send, or raises DropConnection."""

    def __init__(self, rule):
        self.rule = rule

    def apply(self, call) -> Response:
        kind = self.rule["kind"]
        if kind == "status":
            return _render(self.rule)
        if kind == "drop":
            raise DropConnection()
        if kind == "slow":
            time.sleep(self.rule["delay_ms"] / 1000.0)
            return call()
        resp = call()
        if kind == "reset":
            raise ResetConnection()
        resp.truncate = True
        return resp


class FaultInjector(RuleList):
    def __init__(self, seed=None):
        super().__init__()
        self.reseed(seed)

    def reseed(self, seed=None) -> dict:
        """A new run: the RNG starts again from `seed` (None: a random one, reported
        by stats() so that the run can be repeated) and the counts start from zero."""
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise bad_rule("seed must be a whole number (null: a random one)")
        with self._lock:
            self._seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
            self._rng = random.Random(self._seed)
            self._requests = {}
            self._injected = {}
            for rule in self._rules:
                rule["seen"] = rule["injected"] = 0
            return self._stats_locked()

    def add(self, spec: dict) -> dict:
        service = spec.get("service", "*")
        if service != "*" and service not in SERVICES:
            raise bad_rule(f"service must be one of {', '.join(SERVICES)} or *")
        kind = spec.get("kind") or ("drop" if spec.get("drop") else "status")
        if kind not in KINDS:
            raise bad_rule(f"kind must be one of {', '.join(KINDS)}")
        status = spec.get("status", 503)
        if kind == "status" and (not isinstance(status, int) or not 400 <= status <= 599):
            raise bad_rule("status must be an HTTP error status (400-599)")
        delay_ms = _number(spec, "delay_ms", 0, MAX_DELAY_MS, True)
        if kind == "slow" and delay_ms is None:
            raise bad_rule("a slow rule needs delay_ms")
        probability = _number(spec, "probability", 0, 1, False)
        rule = {
            "id": new_uuid(),
            "service": service,
            **request_match(spec),
            "kind": kind,
            "status": status if kind == "status" else None,
            "retry_after": spec.get("retry_after"),
            "delay_ms": delay_ms,
            "count": spec.get("count"),
            "probability": probability,
            "drop": kind == "drop",
            "seen": 0,
            "injected": 0,
            "code": spec.get("code"),
            "message": spec.get("message"),
            "www_authenticate": spec.get("www_authenticate"),
        }
        return self._add(rule)

    # clear() removes every rule; the counts stay (reseed() starts them again).

    def stats(self) -> dict:
        with self._lock:
            return self._stats_locked()

    def _stats_locked(self) -> dict:
        return {"seed": self._seed, "requests": dict(self._requests), "injected": dict(self._injected),
                "injected_total": sum(self._injected.values())}

    def intercept(self, service: str, req):
        """The Fault to apply to this request, or None to let the service answer."""
        with self._lock:
            self._requests[service] = self._requests.get(service, 0) + 1
            fired = None
            draw = None
            slice_end = 0.0
            for rule in self._rules:
                if rule["service"] not in ("*", service):
                    continue
                if not matches(rule, req):
                    continue
                rule["seen"] += 1
                if fired is not None:
                    continue
                if rule["probability"] is not None:
                    if draw is None:
                        draw = self._rng.random()
                    slice_start = slice_end
                    slice_end += rule["probability"]
                    if not slice_start <= draw < slice_end:
                        continue
                fired = rule
            if fired is None:
                return None
            fired["injected"] += 1
            key = str(fired["status"]) if fired["kind"] == "status" else fired["kind"]
            self._injected[key] = self._injected.get(key, 0) + 1
            spend(self._rules, fired)
            return Fault(dict(fired))


def _render(rule) -> Response:
    code, message = _DEFAULT_MESSAGES.get(rule["status"], ("Fault", "Injected fault."))
    code = rule.get("code") or code
    message = rule.get("message") or message
    headers = []
    if rule["retry_after"] is not None:
        headers.append(("Retry-After", str(rule["retry_after"])))
    if rule.get("www_authenticate"):
        headers.append(("WWW-Authenticate", str(rule["www_authenticate"])))
    return json_response(rule["status"], {"error": {"code": code, "message": message}}, headers)
