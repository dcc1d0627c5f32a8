"""What the emulator's two test-only rule lists (faults.py, hostile.py) share: the list
itself (RuleList), the requests a rule matches ("method": "POST"|null, "path_regex": a regular expression searched in the
path, default any) and how many it answers ("count": N, null until removed)."""

import re
import threading

from .httpmsg import ServiceError


def bad_rule(message: str) -> ServiceError:
    return ServiceError(400, "BadParameter", message)


def request_match(spec: dict) -> dict:
    """The matching members of a new rule, from the rule's spec as a client sent it."""
    try:
        pattern = re.compile(spec.get("path_regex") or ".*")
    except re.error as exc:
        raise bad_rule(f"bad path_regex: {exc}") from None
    return {"method": (spec.get("method") or "").upper() or None, "path_regex": pattern.pattern}


def matches(rule: dict, req) -> bool:
    return (not rule["method"] or rule["method"] == req.method) and \
        re.search(rule["path_regex"], req.path) is not None


def spend(rules: list, rule: dict) -> None:
    """One answer from rule: at the end of its count it leaves rules (the caller holds the lock)."""
    if rule.get("count") is not None:
        rule["count"] -= 1
        if rule["count"] <= 0:
            rules.remove(rule)


class RuleList:
    """Rules in the order added, under one lock (the server answers on many threads)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    def _add(self, rule: dict) -> dict:
        with self._lock:
            self._rules.append(rule)
        return dict(rule)

    def list(self) -> list:
        with self._lock:
            return [dict(r) for r in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
