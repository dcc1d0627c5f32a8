"""Emulated Azure Arc-enabled server identity endpoint (the Connected Machine agent's
Hybrid Instance Metadata Service, himds), reached through IDENTITY_ENDPOINT and IMDS_ENDPOINT:

  GET /_arc/metadata/identity/oauth2/token?api-version=2020-06-01&resource=R   header Metadata: true

served by path on the emulator's loopback address (the agent listens on
http://localhost:40342). `admin arc --identity X` chooses the machine's identity and prints
{"identity_endpoint": "https://127.0.0.1:PORT/_arc/metadata/identity/oauth2/token",
"imds_endpoint": "https://127.0.0.1:PORT/_arc", "key_dir": DIR}.

The challenge (learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication):
a token request without `Authorization` is answered 401 with `Www-Authenticate: Basic
realm=<path of a .key file>` (the agent's spelling of the header, as the document's
`grep Www-Authenticate` and azure-sdk-for-python's logged responses show; Content-Type
application/json). The agent writes a fresh secret to that file, readable only by
privileged users; the emulator writes it, mode 0600, to a directory of its own (`serve
--arc-token-dir DIR`, default STATE_DIR/azcmagent-tokens; the agent uses
/var/opt/azcmagent/tokens/<guid>.key, and MSAL Node insists on that directory, so the
official JS SDK cannot follow the emulator's challenge). The retry with
`Authorization: Basic <file contents>` gets IMDS's answer (imds.token_answer). Each secret
is good for one token: the emulator removes the file once used (the agent's lifetime for
them is not documented); a wrong secret gets a new challenge.

User-assigned identities: the documented Arc identity is the machine's system-assigned one.
The agent ignores client_id / object_id / msi_res_id / mi_res_id and answers with the
machine's identity, as the agents before user-assigned support did (MSAL Node
AzureArc.ts, "a legacy Azure Arc agent ignores the ... selector and silently returns the
machine's system-assigned identity"; MSAL Node then refuses the token because the echoed
client_id differs). Not confirmed against real traffic: the 401 body, the refusals'
texts (IMDS's are used).
"""

import os
import re
import secrets
import threading

from .httpmsg import json_response
from .imds import managed_identities, refuse_malformed, refuse_resource, token_answer
from .util import new_uuid

PREFIX = "/_arc"
_TOKEN = re.compile(r"^/_arc/metadata/identity/oauth2/token/?$", re.I)
MAX_OUTSTANDING = 100      # challenges not yet answered; older secret files are removed


def is_arc_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class ArcService:
    def __init__(self, state, tokens, key_dir):
        self.state = state
        self.tokens = tokens
        self.key_dir = os.path.abspath(key_dir)
        os.makedirs(self.key_dir, mode=0o700, exist_ok=True)
        self._lock = threading.Lock()
        self._outstanding = {}   # secret -> key file path, oldest first

    # ---- admin ------------------------------------------------------------------------------

    def configure(self, ident: dict) -> None:
        with self.state.lock:
            self.state.doc["arc_identity"] = ident["client_id"]
            self.state.save()

    # ---- the agent ------------------------------------------------------------------------

    def handle(self, req):
        refused = refuse_malformed(req, _TOKEN)
        if refused:
            return refused
        auth = req.header("Authorization") or ""
        if not (auth[:6].lower() == "basic " and self._redeem(auth[6:].strip())):
            return self._challenge()
        resource = req.query.get("resource") or ""
        refused = refuse_resource(resource)
        if refused:
            return refused
        with self.state.lock:
            machine = self.state.doc.get("arc_identity")
        ident = next((i for i in managed_identities(self.state) if i["client_id"] == machine), None)
        return token_answer(self.tokens, ident, resource)

    def _challenge(self):
        secret = secrets.token_hex(32)
        path = os.path.join(self.key_dir, new_uuid() + ".key")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secret)
        with self._lock:
            self._outstanding[secret] = path
            while len(self._outstanding) > MAX_OUTSTANDING:
                _remove(self._outstanding.pop(next(iter(self._outstanding))))
        body = {"error": "unauthorized_client",
                "error_description": "Authentication required: send the secret of the file named in the "
                                     "Www-Authenticate header as 'Authorization: Basic <secret>'."}
        return json_response(401, body, [("Www-Authenticate", f"Basic realm={path}")])

    def _redeem(self, secret: str) -> bool:
        with self._lock:
            path = self._outstanding.pop(secret, None)
        if path is None:
            return False
        _remove(path)
        return True


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass
