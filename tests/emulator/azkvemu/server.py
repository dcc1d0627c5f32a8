"""HTTPS server: TLS with the emulator's certificate, HTTP/1.1 keep-alive, one thread
per connection, one log line per request on stderr.

The TLS handshake runs in the connection's thread (not in accept()), so a slow
or broken client never stalls the listener. The SNI callback refuses the
handshake (TLS alert unrecognized_name) for NAME.vault.azure.net when vault NAME
does not exist — the nearest thing to the DNS failure a client gets from Azure.
"""

import datetime
import email.utils
import ipaddress
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import request_log
from .admin import is_admin_path
from .httpmsg import DropConnection, Request, ResetConnection, ServiceError

HANDSHAKE_TIMEOUT = 15      # seconds a client may take to finish the TLS handshake
IDLE_TIMEOUT = 120          # seconds an idle keep-alive connection stays open
MAX_BODY = 4 * 1024 * 1024  # Key Vault requests are small; refuse anything silly


def log(message: str) -> None:
    stamp = datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]
    sys.stderr.write(f"{stamp} azkv-emulator: {message}\n")
    sys.stderr.flush()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_tls_context(cert_file, key_file, router) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    ctx.set_alpn_protocols(["http/1.1"])

    def sni_callback(sslobj, server_name, _ctx):
        if server_name and not router.known_sni(server_name):
            log(f"TLS refused: unknown vault host {server_name}")
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        wrong = router.hostile.tls_context_for(server_name) if router.hostile else None
        if wrong is not None:   # test-only (hostile.py): a certificate for another name
            log(f"TLS: hostile certificate for {server_name}")
            sslobj.context = wrong
        return None

    if router is not None:
        ctx.sni_callback = sni_callback
    return ctx


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def timeout(self):
        return self.server.idle_timeout

    # One handler method for every verb; the router decides what is allowed.
    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, fmt, *args):  # silence BaseHTTPRequestHandler's own logging
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, chunks)) > MAX_BODY:
                    raise ValueError("body too large")
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        started = time.monotonic()
        path_for_log = self.path.split("?", 1)[0]
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._write(ServiceError(400, "BadRequest", "Malformed request body.").response())
            log(f"{self.command} {path_for_log} 400 (bad body)")
            return
        req = Request(self.command, self.path, self.headers, body,
                      self.client_address[0], self.server.server_address[1])
        outcome, resp = None, None
        try:
            resp = self.server.router.route(req)
        except ResetConnection:
            # Linger 0: close() sends a TCP RST instead of a FIN (test-only fault).
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            outcome = "reset"
        except DropConnection:
            self.close_connection = True
            outcome = "closed"
        except Exception as exc:  # a bug in the emulator must not kill the connection thread silently
            log(f"internal error on {self.command} {path_for_log}: {exc!r}")
            resp = ServiceError(500, "InternalServerError", "The emulator hit an internal error.").response()
        if resp is not None:
            self._write(resp)
        entry = request_log.entry(req, resp, outcome)
        if self.server.request_log is not None and not is_admin_path(req.path):
            self.server.request_log.add(entry)
        # Never log headers or bodies: they carry tokens, secrets and key material.
        cut = " truncated (injected fault)" if resp is not None and resp.truncate else ""
        log(request_log.line(entry, req.host_header, (time.monotonic() - started) * 1000, cut))

    def _write(self, resp):
        self.send_response_only(resp.status)
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        for name, value in resp.headers:
            self.send_header(name, value)
        # Always a Content-Length (0 included) so keep-alive clients know where a reply ends.
        self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write: two small writes meet Nagle + delayed ACK
        # on the client and cost ~40 ms per response.
        self._headers_buffer.append(b"\r\n")
        drip = getattr(resp, "drip_interval", None)
        if self.command != "HEAD" and resp.body and drip is None:
            self._headers_buffer.append(resp.body[:len(resp.body) // 2] if resp.truncate else resp.body)
        self.flush_headers()
        if resp.truncate:
            # Test-only fault: the full length announced, half the body sent, then the
            # connection closes, without a "Connection: close" warning (a lost connection).
            self.close_connection = True
        if self.command != "HEAD" and drip is not None:
            self._drip(resp.body, drip)

    def _drip(self, body, interval):
        """Test-only (hostile.py): the body a byte at a time, until the client gives up."""
        self.close_connection = True
        for i in range(len(body)):
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            time.sleep(interval)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True          # open keep-alive connections must not block shutdown
    allow_reuse_address = True
    # listen() backlog: many clients (a soak's threads, all reconnecting after injected
    # resets) must not find it full; the default 5 makes their SYNs wait a second.
    request_queue_size = 128

    def __init__(self, host, port, tls_context, router, request_log=None, idle_timeout=IDLE_TIMEOUT):
        if not is_loopback(host):
            raise ValueError(f"refusing to listen on non-loopback address {host!r}")
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.tls_context = tls_context
        self.router = router
        self.request_log = request_log  # request_log.RequestLog, or None
        self.idle_timeout = idle_timeout
        super().__init__((host, port), Handler)

    def finish_request(self, request, client_address):
        """Runs in the connection's thread: TLS handshake first, then HTTP."""
        request.settimeout(HANDSHAKE_TIMEOUT)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            # Refused SNI, plain HTTP on the TLS port, client went away...
            if "CALLBACK_FAILED" not in str(exc).upper():  # refused SNI: already logged
                log(f"TLS handshake with {client_address[0]} failed: {exc}")
            request.close()
            return
        try:
            tls.settimeout(self.idle_timeout)
            self.RequestHandlerClass(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="azkv-emulator", daemon=True)
        thread.start()
        return thread
