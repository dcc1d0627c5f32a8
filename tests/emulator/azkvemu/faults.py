"""Fault injection: the one place where throttling (429), transient 5xx and dropped
connections are decided, before a request reaches a service.

The router calls `FaultInjector.intercept(service, req)` for every request to an
emulated Azure service (never for the admin API). Rules are added through the
admin API (/_emulator/faults). This is deliberately minimal for now — a later
issue owns realistic throttling (per-vault transaction budgets, Retry-After
semantics, exact error bodies); extend `_render` and `FaultRule` there.

A rule: {"service": one of SERVICES or "*", "method": "POST"|null,
         "path_regex": "...", "status": 429, "retry_after": 1, "count": 2,
         "drop": false, "www_authenticate": null}
`www_authenticate` (test-only, with status 401) is the challenge to send: a hostile vault
asking for a token for another resource or tenant.
`count` is how many matching requests fail (null: until the rule is removed).
"""

import re
import threading

from .httpmsg import DropConnection, Response, ServiceError, json_response
from .util import new_uuid

# The emulated services a rule can name (the router's names for them): Key Vault, Entra ID,
# Resource Manager, IMDS, the Foundry data plane, the App Service / Functions / Container Apps
# identity endpoint, the Azure Arc agent, the test OIDC issuer.
SERVICES = ("keyvault", "entra", "arm", "imds", "foundry", "appservice", "arc", "oidc")

_DEFAULT_MESSAGES = {
    429: ("Throttled", "Request was not processed because too many requests were received. "
                       "Reason: A rate limit was reached."),
    500: ("InternalServerError", "The service encountered an internal error."),
    502: ("BadGateway", "The gateway did not receive a response in time."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
    504: ("GatewayTimeout", "The gateway did not receive a response in time."),
}


class FaultInjector:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    def add(self, spec: dict) -> dict:
        service = spec.get("service", "*")
        if service != "*" and service not in SERVICES:
            raise ServiceError(400, "BadParameter", f"service must be one of {', '.join(SERVICES)} or *")
        status = spec.get("status", 503)
        if not spec.get("drop") and (not isinstance(status, int) or not 400 <= status <= 599):
            raise ServiceError(400, "BadParameter", "status must be an HTTP error status (400-599)")
        try:
            pattern = re.compile(spec.get("path_regex") or ".*")
        except re.error as exc:
            raise ServiceError(400, "BadParameter", f"bad path_regex: {exc}") from None
        rule = {
            "id": new_uuid(),
            "service": service,
            "method": (spec.get("method") or "").upper() or None,
            "path_regex": pattern.pattern,
            "status": status,
            "retry_after": spec.get("retry_after"),
            "count": spec.get("count"),
            "drop": bool(spec.get("drop")),
            "www_authenticate": spec.get("www_authenticate"),
        }
        with self._lock:
            self._rules.append(rule)
        return dict(rule)

    def list(self) -> list:
        with self._lock:
            return [dict(r) for r in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def intercept(self, service: str, req):
        """A Response to send instead of the service's, or None to proceed.
        Raises DropConnection for rules that cut the connection."""
        with self._lock:
            for rule in self._rules:
                if rule["service"] not in ("*", service):
                    continue
                if rule["method"] and rule["method"] != req.method:
                    continue
                if not re.search(rule["path_regex"], req.path):
                    continue
                if rule["count"] is not None:
                    rule["count"] -= 1
                    if rule["count"] <= 0:
                        self._rules.remove(rule)
                break
            else:
                return None
        if rule["drop"]:
            raise DropConnection()
        return self._render(rule)

    @staticmethod
    def _render(rule) -> Response:
        code, message = _DEFAULT_MESSAGES.get(rule["status"], ("Fault", "Injected fault."))
        headers = []
        if rule["retry_after"] is not None:
            headers.append(("Retry-After", str(rule["retry_after"])))
        if rule["www_authenticate"]:
            headers.append(("WWW-Authenticate", str(rule["www_authenticate"])))
        return json_response(rule["status"], {"error": {"code": code, "message": message}}, headers)
