"""Test support: start/stop an emulator in a temporary directory and talk to it
the way the real clients do — TLS verified against the emulator's CA, real Azure
host names in SNI and Host, TCP connection to 127.0.0.1:PORT ("connect-to");
and what the suites share beside that: base64url and JWT helpers, the emulator's
Resource Manager defaults (subscription, resource group, API versions) and paths.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from urllib.parse import urlencode, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "azkv-emulator")
PYTHON = "/usr/bin/python3"
API = "7.4"

# Azure Resource Manager as the emulator serves it (azkvemu/arm.py): its default
# subscription and resource group, and the API versions the tests speak.
ARM = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-emulator"
KV_API = "2023-07-01"       # Microsoft.KeyVault
CS_API = "2025-06-01"       # Microsoft.CognitiveServices
ML_API = "2022-10-01"       # Microsoft.MachineLearningServices
AUTHZ_API = "2022-04-01"    # Microsoft.Authorization
CSEU = "e147488a-f6f5-4113-8e2d-b22465e65bf6"   # Key Vault Crypto Service Encryption User


class ConnectToHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `host` (SNI, certificate check, Host header) over a TCP connection
    to 127.0.0.1:emu_port — what curl --connect-to does."""

    def __init__(self, host, emu_port, context, timeout=60):
        super().__init__(host, 443, context=context, timeout=timeout)
        self.emu_port = emu_port

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.emu_port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return f"<Reply {self.status} {self.raw[:300]!r}>"


class Emulator:
    def __init__(self, extra_args=(), state_dir=None):
        self.owns_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="azkv-emu-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.info = None
        self.log_path = os.path.join(self.state_dir, "emulator.log")
        self._conns = {}

    # ---- lifecycle -------------------------------------------------------------

    def start(self, timeout=30):
        ready = os.path.join(self.state_dir, "emulator.json")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([PYTHON, EMULATOR, "serve", "--state-dir", self.state_dir, "--port", "0"]
                                     + self.extra_args, stdout=self._log, stderr=self._log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(ready):
                with open(ready) as fh:
                    self.info = json.load(fh)
                if self.info["pid"] == self.proc.pid:
                    break
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited early: {self.read_log()}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"emulator did not become ready: {self.read_log()}")
        self.port = self.info["port"]
        self.ca_file = self.info["ca_file"]
        self.ctx = ssl.create_default_context(cafile=self.ca_file)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stop the emulator; returns its exit status."""
        self.close_connections()
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        self._log.close()
        return code

    def cleanup(self):
        if self.proc is not None:
            self.stop()
        if self.owns_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as fh:
                return fh.read()[-4000:]
        except OSError:
            return ""

    # ---- admin CLI ------------------------------------------------------------------

    def admin(self, *args, check=True):
        """Run `azkv-emulator admin` and return parsed JSON (or text for export-public)."""
        proc = subprocess.run([PYTHON, EMULATOR, "admin", "--state-dir", self.state_dir] + list(args),
                              capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"admin {args} failed ({proc.returncode}): {proc.stderr}")
        if not check:
            return proc
        try:
            return json.loads(proc.stdout)
        except ValueError:
            return proc.stdout

    def admin_api(self, method, path, body=None):
        """The admin API directly (faster than the CLI when a test needs many calls)."""
        reply = self.request(method, f"https://127.0.0.1:{self.port}/_emulator{path}", body=body)
        if reply.status != 200:
            raise AssertionError(f"admin {method} {path} failed: {reply}")
        return reply.json

    # ---- HTTP ------------------------------------------------------------------------

    def connection(self, host, fresh=False):
        if fresh or host not in self._conns:
            if host in self._conns:
                self._conns[host].close()
            self._conns[host] = ConnectToHTTPSConnection(host, self.port, self.ctx)
        return self._conns[host]

    def close_connections(self):
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def request(self, method, url, body=None, token=None, headers=None, form=None):
        """One request over a kept-alive connection to the URL's host."""
        parts = urlsplit(url)
        target = parts.path + (("?" + parts.query) if parts.query else "")
        hdrs = dict(headers or {})
        payload = None
        if form is not None:
            payload = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token:
            hdrs["Authorization"] = "Bearer " + token
        host = parts.hostname
        if parts.port and parts.port != 443:
            # Addressed to the emulator itself (https://127.0.0.1:PORT/...): plain connection.
            conn = http.client.HTTPSConnection(host, parts.port, context=self.ctx, timeout=60)
        else:
            conn = self.connection(host)
        for attempt in (1, 2):
            try:
                conn.request(method, target, body=payload, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                break
            # A kept-alive connection the emulator closed after IDLE_TIMEOUT
            # fails on its next use with one of these (SSLEOFError when the
            # close_notify arrived first): retried once on a fresh one.
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    ssl.SSLEOFError, ssl.SSLZeroReturnError):
                if attempt == 2 or parts.port:
                    raise
                conn = self.connection(host, fresh=True)
        if parts.port and parts.port != 443:
            conn.close()
        return Reply(resp.status, resp.headers, data)

    # ---- Azure flows -------------------------------------------------------------------

    def token(self, identity, tenant=None, scope="https://vault.azure.net/.default"):
        tenant = tenant or identity["tenant_id"]
        reply = self.request("POST", f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
                             form={"grant_type": "client_credentials", "client_id": identity["client_id"],
                                   "client_secret": identity["client_secret"], "scope": scope})
        assert reply.status == 200, reply
        return reply.json["access_token"]


def vault_url(vault, path, api=API, **query):
    """https://VAULT.vault.azure.net/PATH?api-version=..."""
    q = {"api-version": api} if api else {}
    q.update(query)
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    return f"https://{vault}.vault.azure.net{path}" + (f"?{qs}" if qs else "")


def resource_path(rtype, name, sub=SUB, rg=RG):
    """/subscriptions/SUB/resourceGroups/RG/providers/RTYPE/NAME"""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"


def vault_path(name):
    return resource_path("Microsoft.KeyVault/vaults", name)


def account_path(name):
    return resource_path("Microsoft.CognitiveServices/accounts", name)


def workspace_path(name):
    return resource_path("Microsoft.MachineLearningServices/workspaces", name)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, unverified."""
    return json.loads(unb64u(token.split(".")[1]))
