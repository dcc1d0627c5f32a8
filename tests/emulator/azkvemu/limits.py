"""Key Vault's service limits: off unless turned on (`serve --kv-limits`, or PUT
/_emulator/limits {"enabled": true}), so that no other test meets a 429 it did not ask for.

Source: "Azure Key Vault service limits" (learn.microsoft.com/azure/key-vault/general/
service-limits), key transactions allowed in 10 seconds per vault per region:

    key type          HSM key: create / other     software key: create / other
    RSA 2,048-bit          10 / 2,000                   20 / 4,000
    RSA 3,072-bit          10 /   500                   20 / 1,000
    RSA 4,096-bit          10 /   250                   20 /   500
    ECC (every curve)      10 / 2,000                   20 / 4,000

and "the throttling thresholds are weighted, and enforcement is on their sum": so each
transaction here costs 4,000 / its row's limit (an RSA-4096 HSM sign costs 16, an RSA-2048
software one 1) out of one budget of 4,000 per vault in any 10-second window. Vault
transactions (listing keys; a key the vault does not have) cost 1, the "all transactions"
limit of 4,000. "Failed requests that return a 429 do not count towards the throttle limits"
("Azure Key Vault throttling guidance", overview-throttling): a refused request takes
nothing from the budget. Past the budget the answer is 429 with Retry-After, the seconds
until enough of the window's cost has aged out, and the Throttled error faults.py renders.

Vaults only: Managed HSM's limits are per pool and not modelled. Import and rotate count as
creates (an import at the RSA-2048 row: its size is not looked at).
"""

import collections
import json
import math
import re
import threading
import time

from . import keycrypto
from .httpmsg import ServiceError

WINDOW_S = 10.0
BUDGET = 4000
# (RSA size or "EC", HSM) -> (create limit, other limit), per 10 s.
_LIMITS = {
    (2048, True): (10, 2000), (2048, False): (20, 4000),
    (3072, True): (10, 500), (3072, False): (20, 1000),
    (4096, True): (10, 250), (4096, False): (20, 500),
    ("EC", True): (10, 2000), ("EC", False): (20, 4000),
}
_KEY_PATH = re.compile(r"^/keys/(?P<name>[^/]+)(?:/(?P<rest>[^/]+(?:/[^/]+)?))?$")
THROTTLED_MESSAGE = ("Request was not processed because too many requests were received. "
                     "Reason: A single vault cannot exceed its key transaction limit.")


def _row(kty: str, size) -> tuple:
    hsm = kty.endswith("-HSM")
    if kty.startswith("EC"):
        return _LIMITS[("EC", hsm)]
    return _LIMITS.get((size or 2048, hsm), _LIMITS[(4096, hsm)])


class VaultLimits:
    def __init__(self, enabled=False):
        self._lock = threading.Lock()
        self.enabled = bool(enabled)
        self._spent = {}          # vault name -> deque of (monotonic time, cost)
        self._sizes = {}          # key version -> RSA size (the PEM is parsed once)
        self.throttled = 0

    def settings(self) -> dict:
        with self._lock:
            return {"enabled": self.enabled, "window_s": WINDOW_S, "budget": BUDGET,
                    "throttled": self.throttled}

    def configure(self, body: dict) -> dict:
        enabled = body.get("enabled") if isinstance(body, dict) else None
        if not isinstance(enabled, bool):
            raise ServiceError(400, "BadParameter", "PUT {\"enabled\": true|false}")
        with self._lock:
            self.enabled = enabled
            self._spent.clear()
            self.throttled = 0
        return self.settings()

    def _rsa_size(self, record: dict):
        size = self._sizes.get(record["version"])
        if size is None:
            size = keycrypto.key_size_of(keycrypto.load_key(record))
            self._sizes[record["version"]] = size
        return size

    def _cost(self, req, vault: dict) -> int:
        m = _KEY_PATH.match(req.path)
        if m is None:
            return 1
        rest = m.group("rest") or ""
        if (req.method == "POST" and rest == "create") or (req.method == "PUT" and not rest):
            try:
                body = json.loads(req.body or b"{}")
            except ValueError:
                body = None
            body = body if isinstance(body, dict) else {}
            if req.method == "PUT":  # import: the JWK's kty
                body = body.get("key") if isinstance(body.get("key"), dict) else {}
            size = body.get("key_size")
            return BUDGET // _row(str(body.get("kty") or "RSA"),
                                  size if isinstance(size, int) else None)[0]
        entry = vault["keys"].get(m.group("name").lower())
        if entry is None or not entry.get("latest"):
            return 1
        version = rest.split("/", 1)[0] if rest and rest not in ("rotate", "rotationpolicy") \
            else entry["latest"]
        record = entry["versions"].get(version) or entry["versions"][entry["latest"]]
        kty = record["kty"]
        size = None if kty.startswith("EC") or kty.startswith("oct") else self._rsa_size(record)
        create, other = _row(kty, size)
        return BUDGET // (create if rest == "rotate" else other)

    def admit(self, req, vault: dict):
        """None when req fits in its vault's budget (its cost is then spent), else the 429."""
        if not self.enabled or vault.get("kind") != "vault":
            return None
        cost = self._cost(req, vault)
        now = time.monotonic()
        with self._lock:
            spent = self._spent.setdefault(vault["name"].lower(), collections.deque())
            while spent and spent[0][0] <= now - WINDOW_S:
                spent.popleft()
            total = sum(c for _, c in spent)
            if total + cost <= BUDGET:
                spent.append((now, cost))
                return None
            self.throttled += 1
            # The wait until the oldest costs have aged out enough for this one.
            freed, wait = 0, WINDOW_S
            for at, c in spent:
                freed += c
                if total - freed + cost <= BUDGET:
                    wait = at + WINDOW_S - now
                    break
        retry_after = max(1, math.ceil(wait))
        return ServiceError(429, "Throttled", THROTTLED_MESSAGE,
                            headers=[("Retry-After", str(retry_after))]).response()
