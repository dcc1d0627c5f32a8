"""The request log: one entry for every request the emulator's services get (the admin API
aside) saying what it carried and how it ended, never a header's or a body's value. Tests
read it to show that no token or key material went where it should not: through the admin
API (GET /_emulator/requests, DELETE to empty it) as entries, and in emulator.log as the
line line() renders from each entry (" +auth" for an Authorization header, " +body" for a
body).

An entry: {host, method, path (no query), authorization, body, status, request_id, outcome},
where status is the HTTP status answered (null when the connection was closed or reset
instead), request_id the x-ms-request-id the answer carried (null without one: Azure's
services send one with every answer, as the recordings in ../shared/recordings show, and
support asks for it; the module logs it, so tests match the two), and outcome is null,
"closed" or "reset" (test-only faults, faults.py and hostile.py).
"""

import threading

MAX_ENTRIES = 20000  # the last ones are kept


def entry(req, resp=None, outcome=None) -> dict:
    """The entry of req, answered with resp (None: not answered)."""
    request_id = next((value for name, value in resp.headers if name.lower() == "x-ms-request-id"),
                      None) if resp is not None else None
    return {"host": req.hostname, "method": req.method, "path": req.path,
            "authorization": bool((req.header("Authorization") or "").strip()),
            "body": bool(req.body), "status": resp.status if resp is not None else None,
            "request_id": request_id, "outcome": outcome}


def line(e: dict, host_header: str, ms: float, note: str = "") -> str:
    """The emulator.log line of entry e (host_header as the client sent it)."""
    carried = (" +auth" if e["authorization"] else "") + (" +body" if e["body"] else "")
    target = f"{e['method']} {host_header}{e['path']}"
    if e["outcome"] == "reset":
        return f"{target} -> connection reset (injected fault)"
    if e["outcome"] == "closed":
        return f"{target} -> connection closed{carried}"
    return f"{target} {e['status']}{note} {ms:.0f}ms{carried}"


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = []

    def add(self, e: dict) -> None:
        with self._lock:
            self._entries.append(e)
            del self._entries[:-MAX_ENTRIES]

    def entries(self) -> list:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
