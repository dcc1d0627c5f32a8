"""A small Foundry (Azure OpenAI) data plane on an account's endpoint host
{customSubDomainName or name}.cognitiveservices.azure.com: files, stored
encrypted at rest with the account's data key (foundrykeys.py), so that a
customer-managed key that is revoked, disabled, expired or deleted stops
uploads and downloads as it does in Azure.

  POST /openai/files?api-version=V          upload: JSON {"filename", "content" (text),
                                             "purpose"?} or any other body (raw bytes,
                                             ?filename=&purpose=)           -> 201 file object
  GET  /openai/files?api-version=V          list                            -> {"object":"list","data":[...]}
  GET  /openai/files/{id}?api-version=V     one file object
  GET  /openai/files/{id}/content?api-version=V   the bytes (needs the data key)
  DELETE /openai/files/{id}?api-version=V   -> {"object":"file","id","deleted":true}

Authentication: a bearer token for https://cognitiveservices.azure.com (any
identity). A customer-managed key the account cannot use answers 403
{"error":{"code":"CustomerManagedKeyInaccessible","message",
"innererror":{"code": reason}}}.
"""

import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .foundrykeys import KeyInaccessible
from .httpmsg import Response, ServiceError, json_response
from .routes import Routes
from .tokens import TokenError
from .util import b64url, b64url_decode, now

HOST_SUFFIX = ".cognitiveservices.azure.com"
AUDIENCES = {"https://cognitiveservices.azure.com", "https://cognitiveservices.azure.com/",
             "https://ai.azure.com", "https://ai.azure.com/"}
_UNAUTHORIZED = ("Unauthorized. Access token is missing, invalid, audience is incorrect "
                 "(https://cognitiveservices.azure.com), or have expired.")


def account_for_host(state, hostname):
    """The account whose endpoint host this is (custom subdomain, else name), or None;
    (None, False) when the host is not a Cognitive Services endpoint at all."""
    if not hostname.endswith(HOST_SUFFIX) or len(hostname) <= len(HOST_SUFFIX):
        return None, False
    label = hostname[: -len(HOST_SUFFIX)]
    with state.lock:
        for rec in state.doc.get("accounts", {}).values():
            if (rec.get("custom_subdomain") or rec["name"]).lower() == label:
                return rec, True
    return None, True


class FoundryService:
    def __init__(self, state, tokens, keys):
        self.state = state
        self.tokens = tokens
        self.keys = keys
        self.routes = Routes([
            ("POST", r"/openai/files", self._upload),
            ("GET", r"/openai/files", self._list),
            ("GET", r"/openai/files/(?P<fid>[^/]+)", self._get),
            ("DELETE", r"/openai/files/(?P<fid>[^/]+)", self._delete),
            ("GET", r"/openai/files/(?P<fid>[^/]+)/content", self._content),
        ])

    def handle(self, req, account) -> Response:
        try:
            self._authenticate(req)
            if not req.query.get("api-version"):
                raise ServiceError(404, "404", "Resource not found")
            found = self.routes.match(req.method, "/" + req.path.strip("/"))
            if found is None:
                raise ServiceError(404, "404", "Resource not found")
            handler, params = found
            with self.state.lock:
                return handler(req, account, **params)
        except KeyInaccessible as err:
            where = f" ({err.kid})" if err.kid else ""
            return ServiceError(403, "CustomerManagedKeyInaccessible",
                                f"The customer-managed key of this resource is inaccessible{where}: "
                                f"{err.reason}: {err.message}", err.reason).response()
        except ServiceError as err:
            return err.response()

    def _authenticate(self, req):
        token = req.bearer_token()
        if not token:
            raise ServiceError(401, "401", _UNAUTHORIZED)
        try:
            claims = self.tokens.verify(token)
        except TokenError:
            raise ServiceError(401, "401", _UNAUTHORIZED) from None
        if str(claims.get("aud")) not in AUDIENCES:
            raise ServiceError(401, "401", _UNAUTHORIZED)
        return claims

    @staticmethod
    def _file_json(f):
        return {"object": "file", "id": f["id"], "purpose": f["purpose"], "filename": f["filename"],
                "bytes": f["bytes"], "created_at": f["created_at"], "status": "processed",
                "status_details": None}

    @staticmethod
    def _files(account):
        return account.setdefault("files", {})

    def _find(self, account, fid):
        f = self._files(account).get(fid)
        if f is None:
            raise ServiceError(404, "NotFound", f"File with id '{fid}' not found.")
        return f

    def _upload(self, req, account):
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                body = json.loads(req.body or b"{}")
            except ValueError:
                raise ServiceError(400, "invalidPayload", "The request body is not valid JSON.") from None
            if not isinstance(body, dict) or not isinstance(body.get("content"), str) or not body.get("filename"):
                raise ServiceError(400, "invalidPayload",
                                   "A JSON upload needs 'filename' and 'content' (text).")
            data, filename, purpose = body["content"].encode("utf-8"), body["filename"], body.get("purpose")
        else:
            data, filename, purpose = req.body or b"", req.query.get("filename"), req.query.get("purpose")
            if not filename:
                raise ServiceError(400, "invalidPayload", "A raw upload needs ?filename=.")
        dek_id, dek = self.keys.current(account)
        fid = "file-" + os.urandom(16).hex()
        nonce = os.urandom(12)
        sealed = AESGCM(dek).encrypt(nonce, data, fid.encode())
        f = {"id": fid, "filename": filename, "purpose": purpose or "fine-tune", "bytes": len(data),
             "created_at": now(), "dek_id": dek_id, "nonce": b64url(nonce), "ciphertext": b64url(sealed)}
        self._files(account)[fid] = f
        self.state.save()
        return json_response(201, self._file_json(f))

    def _list(self, req, account):
        files = sorted(self._files(account).values(), key=lambda f: (f["created_at"], f["id"]))
        return json_response(200, {"object": "list", "data": [self._file_json(f) for f in files]})

    def _get(self, req, account, fid):
        return json_response(200, self._file_json(self._find(account, fid)))

    def _delete(self, req, account, fid):
        self._find(account, fid)
        del self._files(account)[fid]
        self.state.save()
        return json_response(200, {"object": "file", "id": fid, "deleted": True})

    def _content(self, req, account, fid):
        f = self._find(account, fid)
        dek = self.keys.dek(account, f["dek_id"])
        data = AESGCM(dek).decrypt(b64url_decode(f["nonce"]), b64url_decode(f["ciphertext"]), fid.encode())
        return Response(200, data, content_type="application/octet-stream")
