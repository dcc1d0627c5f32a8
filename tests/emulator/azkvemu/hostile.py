"""Hostile vault: a TEST-ONLY mode in which Key Vault answers what no real vault answers,
so that tests can show the module refuses it cleanly. Nothing here models Azure; every
behaviour is a lie a broken, compromised or impersonated server could tell.

Rules are added through the admin API (/_emulator/hostile, `azkv-emulator admin hostile`)
and apply to Key Vault / Managed HSM data-plane requests after the fault rules (faults.py).
With no rule, the emulator is the faithful one. A rule:

  {"behaviour": NAME, "method": "GET"|null, "path_regex": "...", "count": N|null, ...params}

`count` is how many matching requests it answers (null: until cleared); the first rule that
matches wins. Only `challenge` and `redirect` answer a request without a token; the others
let the real 401 challenge through first (BEFORE_TOKEN). Behaviours (the real answer is computed first where one is changed):

  kid_no_version     the bundle's / each list item's kid loses its version (https://H/keys/NAME)
  kid_other_host     the kid names another vault host ("host": default evil.vault.azure.net)
  kid_other_version  the kid's version replaced by another (32 hex digits)
  kid_other_name     the kid names another key ("name": default "someotherkey")
  patch_key          members of the bundle's "key" (JWK) replaced: {"key": {member: value|null}}
                     (null deletes): wrong kty, small/huge modulus, off-curve point, key_ops...
  truncate           the real body cut in half (Content-Length matching the cut body)
  malformed          200 with "body" (default: not JSON at all)
  content_type       the real body with Content-Type "content_type" (default text/html)
  empty              200 with an empty body
  oversize           200 with a JSON body of "size" bytes (default 17 MiB: over the module's 16 MiB)
  next_loop          list pages: page 1 -> A -> B -> A ... (nextLink goes round)
  endless            list pages without end, each with a new nextLink; "items": N fresh items
                     a page (default 0; kids without version, as in a list of keys)
  challenge          401 whose WWW-Authenticate names "resource" (default https://evil.example.test)
                     and "tenant" (default: a tenant that is not the vault's)
  redirect           "status" (default 307) with Location on "location_host" (default
                     login.microsoftonline.com, which the emulator serves and logs)
  drip               the real answer, its body sent one byte every "interval" seconds (default 0.2)
  wrong_cert         the TLS handshake for the vault's host name ("host", required) presents a
                     certificate of the test CA for another name (wrong-host.azkv-emulator.test)

The request log (request_log.py) shows which requests carried a token.
"""

import json
from urllib.parse import urlsplit, urlunsplit

from .httpmsg import JSON_UTF8, Response, ServiceError
from .rules import RuleList, bad_rule, matches, request_match, spend

BEHAVIOURS = (
    "kid_no_version", "kid_other_host", "kid_other_version", "kid_other_name", "patch_key",
    "truncate", "malformed", "content_type", "empty", "oversize", "next_loop", "endless",
    "challenge", "redirect", "drip", "wrong_cert",
)
# What a lying server says before a client has sent a token (its 401 challenge, or a
# redirect instead); every other behaviour answers only requests with a token, so that a
# client which, like the SDKs, first sends a request without one (and gets the real 401
# challenge) meets the lie where it would parse it.
BEFORE_TOKEN = ("challenge", "redirect")
WRONG_CERT_NAME = "wrong-host.azkv-emulator.test"
OTHER_TENANT = "72f988bf-0000-4000-8000-0000000000ff"


class Hostile(RuleList):
    def __init__(self, make_wrong_cert_context=None):
        super().__init__()
        # () -> ssl.SSLContext with the wrong-host certificate; made on first use.
        self._make_wrong_cert_context = make_wrong_cert_context
        self._wrong_ctx = None

    # ---- rules ------------------------------------------------------------------------------

    def add(self, spec: dict) -> dict:
        behaviour = spec.get("behaviour")
        if behaviour not in BEHAVIOURS:
            raise bad_rule(f"behaviour must be one of {', '.join(BEHAVIOURS)}")
        match = request_match(spec)
        if behaviour == "wrong_cert":
            if not spec.get("host"):
                raise bad_rule("wrong_cert needs the vault's \"host\"")
            if self._make_wrong_cert_context is None:
                raise bad_rule("wrong_cert is not available here")
            with self._lock:
                if self._wrong_ctx is None:
                    self._wrong_ctx = self._make_wrong_cert_context()
        return self._add({**spec, **match})

    def _take(self, req, hostname=None):
        """The first rule matching req (or, for TLS, the hostname), its count spent."""
        with self._lock:
            for rule in self._rules:
                if hostname is not None:
                    if rule["behaviour"] != "wrong_cert" or rule["host"].lower() != hostname.lower():
                        continue
                else:
                    if rule["behaviour"] == "wrong_cert":
                        continue
                    if rule["behaviour"] not in BEFORE_TOKEN and not req.header("Authorization"):
                        continue
                    if not matches(rule, req):
                        continue
                spend(self._rules, rule)
                return rule
        return None

    def tls_context_for(self, server_name):
        """The TLS context with the wrong certificate when a rule asks for it, else None."""
        if not server_name or self._take(None, hostname=server_name) is None:
            return None
        return self._wrong_ctx

    # ---- answers ----------------------------------------------------------------------------

    def respond(self, req, call):
        """The answer to a Key Vault request: a rule's, else the service's (call())."""
        rule = self._take(req)
        if rule is None:
            return call()
        b = rule["behaviour"]
        if b == "challenge":
            authority = rule.get("authority", "https://login.microsoftonline.com")
            challenge = (f'Bearer authorization="{authority}/{rule.get("tenant", OTHER_TENANT)}", '
                         f'resource="{rule.get("resource", "https://evil.example.test")}"')
            return ServiceError(401, "Unauthorized", "Hostile challenge.",
                                headers=[("WWW-Authenticate", challenge)]).response()
        if b == "redirect":
            host = rule.get("location_host", "login.microsoftonline.com")
            location = f"https://{host}/hostile-redirect{req.target}"
            return Response(int(rule.get("status", 307)), b"", [("Location", location)])
        if b == "malformed":
            return Response(200, rule.get("body", "this is not JSON {").encode(), None, JSON_UTF8)
        if b == "empty":
            return Response(200, b"", [("Content-Type", JSON_UTF8)])
        if b == "oversize":
            size = int(rule.get("size", 17 * 1024 * 1024))
            body = b'{"value":[' + b" " * max(0, size - 12) + b"]}"
            return Response(200, body, None, JSON_UTF8)
        if b == "endless":
            return self._endless(req, rule)
        if b == "next_loop" and req.query.get("$skiptoken", "").startswith("hostile-loop-"):
            other = "B" if req.query["$skiptoken"].endswith("A") else "A"
            return _json(200, {"value": [], "nextLink": _next_link(req, "hostile-loop-" + other)})

        resp = call()
        if not 200 <= resp.status < 300:
            return resp
        if b == "truncate":
            return Response(resp.status, resp.body[: len(resp.body) // 2], None, JSON_UTF8)
        if b == "content_type":
            return Response(resp.status, resp.body, None, rule.get("content_type", "text/html"))
        if b == "drip":
            resp.drip_interval = float(rule.get("interval", 0.2))
            return resp
        doc = json.loads(resp.body)
        if b == "next_loop":
            doc["nextLink"] = _next_link(req, "hostile-loop-A")
        elif b == "patch_key" and isinstance(doc.get("key"), dict):
            for member, value in (rule.get("key") or {}).items():
                if value is None:
                    doc["key"].pop(member, None)
                else:
                    doc["key"][member] = value
        elif b.startswith("kid_"):
            holders = [doc["key"]] if isinstance(doc.get("key"), dict) else doc.get("value") or []
            for holder in holders:
                if isinstance(holder, dict) and isinstance(holder.get("kid"), str):
                    holder["kid"] = _lying_kid(holder["kid"], b, rule)
        return _json(resp.status, doc, resp.headers)

    @staticmethod
    def _endless(req, rule):
        token = req.query.get("$skiptoken", "")
        page = int(token[len("hostile-page-"):]) if token.startswith("hostile-page-") else 0
        base = f"https://{req.host_header}"
        items = [{"kid": f"{base}/keys/hostile-{page}-{i}", "attributes": {"enabled": True}}
                 for i in range(int(rule.get("items", 0)))]
        return _json(200, {"value": items, "nextLink": _next_link(req, f"hostile-page-{page + 1}")})


def _json(status, doc, headers=None):
    headers = [(k, v) for k, v in (headers or []) if k.lower() not in ("content-type", "content-length")]
    return Response(status, json.dumps(doc).encode(), headers, JSON_UTF8)


def _next_link(req, token):
    return (f"https://{req.host_header}{req.path}?api-version={req.query.get('api-version', '')}"
            f"&$skiptoken={token}")


def _lying_kid(kid, behaviour, rule):
    parts = urlsplit(kid)
    segs = parts.path.strip("/").split("/")   # keys, NAME[, VERSION]
    host = parts.netloc
    if behaviour == "kid_no_version":
        segs = segs[:2]
    elif behaviour == "kid_other_host":
        host = rule.get("host", "evil.vault.azure.net")
    elif behaviour == "kid_other_version":
        segs = segs[:2] + ["0123456789abcdef0123456789abcdef"]
    elif behaviour == "kid_other_name":
        segs[1] = rule.get("name", "someotherkey")
    return urlunsplit((parts.scheme, host, "/" + "/".join(segs), "", ""))
