"""Request/response values passed between the TLS server and the services.

Services never touch sockets: they take a Request and return a Response (or
raise DropConnection), which keeps them easy to read and to test.
"""

from urllib.parse import parse_qs

from .util import json_bytes

JSON_UTF8 = "application/json; charset=utf-8"


class Request:
    def __init__(self, method, target, headers, body, client_ip, server_port):
        self.method = method.upper()
        path, _, query = target.partition("?")
        self.target = target
        self.path = path
        self.raw_query = query
        # keep_blank_values: "api-version=" must read as present-but-empty.
        self.query = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        self.headers = headers          # email.message.Message: case-insensitive get()
        self.body = body
        self.client_ip = client_ip
        self.server_port = server_port
        host = (headers.get("Host") or "").strip()
        self.host_header = host
        self.hostname, self.host_port = split_host(host)

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def bearer_token(self) -> str:
        """The token of an `Authorization: Bearer <token>` header (scheme in any case), else ""."""
        scheme, _, token = (self.header("Authorization") or "").strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""


def split_host(host: str):
    """'a.vault.azure.net:443' -> ('a.vault.azure.net', 443); '[::1]:8443' -> ('::1', 8443)."""
    host = host.strip()
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1:]
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
        return name.lower(), port
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name.lower(), int(port) if port.isdigit() else None
    return host.lower(), None


class Response:
    def __init__(self, status: int, body: bytes = b"", headers=None, content_type=None):
        self.status = status
        self.body = body
        self.headers = list(headers or [])
        # Test-only (faults.py, kind truncate): the server sends the full Content-Length,
        # half the body, and closes the connection.
        self.truncate = False
        if content_type and body:
            self.headers.append(("Content-Type", content_type))

    def add_header(self, name, value):
        self.headers.append((name, value))
        return self


def json_response(status: int, obj, headers=None) -> Response:
    return Response(status, json_bytes(obj), headers, JSON_UTF8)


class DropConnection(Exception):
    """Close the connection without answering (emulates a host that does not exist)."""


class ResetConnection(DropConnection):
    """Test-only (faults.py, kind reset): reset the connection (TCP RST) instead of answering."""


def bad_request(code: str, message: str) -> "ServiceError":
    """A 400 with the service's error code (ARM's and the CMK rules' way of refusing)."""
    return ServiceError(400, code, message)


class ServiceError(Exception):
    """An error a service answers with; `response()` renders it in that service's shape."""

    def __init__(self, status: int, code: str, message: str, inner: str = None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner
        self.headers = list(headers or [])

    def response(self) -> Response:
        # Key Vault's (and ARM's) error envelope.
        err = {"code": self.code, "message": self.message}
        if self.inner:
            err["innererror"] = {"code": self.inner}
        return json_response(self.status, {"error": err}, self.headers)
