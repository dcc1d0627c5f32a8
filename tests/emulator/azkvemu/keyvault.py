"""Emulated Key Vault / Managed HSM keys data plane.

Request pipeline, in the service's order:
  1. bearer token (401 + WWW-Authenticate challenge when missing or invalid),
  2. api-version,
  3. route (method + path; key names case-insensitive, operation names in any case),
  4. permission of the caller (access policy or RBAC -> 403),
  5. the operation itself.
Every answer carries the service's headers (x-ms-request-id, region, ...).
"""

import calendar
import datetime
import json
import re

from . import authz, bundles, clouds, cryptoops, keycrypto, keystore, mhsm_rbac, paging
from .httpmsg import Response, ServiceError, json_response
from .routes import Routes
from .tokens import TokenError
from .util import new_uuid, now

# Key Vault's own application id, also accepted as an audience by the service.
KEYVAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"

SUPPORTED_API_VERSIONS = ("7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6",
                          "7.6-preview.1", "7.6-preview.2", "2025-07-01")
LATEST_API_VERSION = "7.5"

SERVICE_VERSION = "1.9.1157.1"
HSM_BUILD_VERSION = "1.0.20240101-1-emulator"

_OPS = "|".join(cryptoops.OPERATIONS)
_N = r"(?P<name>[^/]+)"
# (method, pattern, handler name); the access-policy permission each handler needs is
# declared on it (_needs).
ROUTES = Routes([
    ("GET", r"/keys/?", "_list_keys"),
    ("POST", rf"/keys/{_N}/create/?", "_create"),
    ("POST", rf"/keys/{_N}/rotate/?", "_rotate"),
    ("GET", rf"/keys/{_N}/versions/?", "_list_versions"),
    ("GET", rf"/keys/{_N}/rotationpolicy/?", "_get_rotation_policy"),
    ("PUT", rf"/keys/{_N}/rotationpolicy/?", "_set_rotation_policy"),
    ("POST", r"/keys/restore/?", "_restore"),
    ("POST", rf"/keys/{_N}/backup/?", "_backup"),
    ("POST", rf"/keys/{_N}(?:/(?P<version>[^/]*))?/release/?", "_release"),
    ("POST", rf"/keys/{_N}(?:/(?P<version>[^/]*))?/(?P<op>{_OPS})/?", "_crypto"),
    ("GET", rf"/keys/{_N}(?:/(?P<version>[^/]*))?/?", "_get"),
    ("PATCH", rf"/keys/{_N}(?:/(?P<version>[^/]*))?/?", "_update"),
    ("PUT", rf"/keys/{_N}/?", "_import"),
    ("DELETE", rf"/keys/{_N}/?", "_delete"),
    ("GET", r"/deletedkeys/?", "_list_deleted"),
    ("GET", rf"/deletedkeys/{_N}/?", "_get_deleted"),
    ("POST", rf"/deletedkeys/{_N}/recover/?", "_recover"),
    ("DELETE", rf"/deletedkeys/{_N}/?", "_purge"),
])


def resource_for_host(hostname: str):
    """(vault name, token audience) of a vault host name of any cloud (clouds.py)."""
    for suffix, (resource, _cloud) in clouds.VAULT_SUFFIXES.items():
        if hostname.endswith(suffix) and len(hostname) > len(suffix):
            return hostname[: -len(suffix)], resource
    return None, None


def resource_for_vault(vault: dict) -> str:
    """The public cloud's audience of a vault addressed by loopback (--localhost-vault)."""
    return "https://" + clouds.PUBLIC["hsm" if vault["kind"] == "managedhsm" else "vault"]


def _login_of(resource: str, default: str) -> str:
    """The authority a vault's 401 names: its cloud's Entra ID (a vault.azure.cn challenge
    names login.chinacloudapi.cn); the public cloud's is the configured --authority-host."""
    for res, cloud in clouds.VAULT_SUFFIXES.values():
        if res == resource and cloud is not clouds.PUBLIC:
            return "https://" + cloud["login"]
    return default


def _api(req):
    return req.query.get("api-version")


def _needs(permission, hsm=None):
    """Declares the access-policy permission a handler's operation needs (the caller's is
    checked before it runs); `hsm`: Managed HSM's own permission where it has one. None:
    the operation in the path decides (cryptoops.OPERATIONS)."""
    def declare(handler):
        handler.permissions = {"vault": permission, "managedhsm": hsm or permission}
        return handler
    return declare


def _locked(handler):
    """Run a handler under the state lock: lookups and the change that follows stay consistent."""
    def wrapper(self, *args, **kwargs):
        with self.state.lock:
            return handler(self, *args, **kwargs)
    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


class KeyVaultService:
    def __init__(self, state, tokens, authority_host="https://login.microsoftonline.com"):
        self.state = state
        self.tokens = tokens
        self.authority_host = authority_host.rstrip("/")

    # ---- entry point ---------------------------------------------------------------

    def handle(self, req, vault: dict, resource: str) -> Response:
        try:
            claims = self._authenticate(req, vault, resource)
            self._check_api_version(req)
            resp = self._dispatch(req, vault, claims)
        except ServiceError as err:
            resp = err.response()
        for header in self._service_headers(req, vault):
            resp.add_header(*header)
        return resp

    def _service_headers(self, req, vault):
        headers = [("Cache-Control", "no-cache"), ("Pragma", "no-cache"), ("Expires", "-1"),
                   ("x-ms-keyvault-region", vault["location"]),
                   ("x-ms-request-id", new_uuid()),
                   ("Strict-Transport-Security", "max-age=31536000;includeSubDomains"),
                   ("X-Content-Type-Options", "nosniff")]
        if req.header("x-ms-client-request-id"):
            headers.append(("x-ms-client-request-id", req.header("x-ms-client-request-id")))
        if vault["kind"] == "managedhsm":
            headers += [("x-ms-keyvault-network-info", f"conn_type=Ipv4;addr={req.client_ip};act_addr_fam=Ipv4;"),
                        ("x-ms-server-latency", "1"), ("x-ms-build-version", HSM_BUILD_VERSION)]
        else:
            headers += [("x-ms-keyvault-network-info",
                         f"conn_type=Ipv4;addr={req.client_ip};act_addr_fam=InterNetwork;"),
                        ("x-ms-keyvault-service-version", SERVICE_VERSION)]
        return headers

    # ---- authentication --------------------------------------------------------------

    def _unauthorized(self, vault, resource, message) -> ServiceError:
        authority = _login_of(resource, self.authority_host)
        challenge = (f'Bearer authorization="{authority}/{vault["tenant_id"]}", '
                     f'resource="{resource}"')
        return ServiceError(401, "Unauthorized", message, headers=[("WWW-Authenticate", challenge)])

    def _authenticate(self, req, vault, resource) -> dict:
        token = req.bearer_token()
        if not token:
            raise self._unauthorized(vault, resource, "AKV10000: Request is missing a Bearer or PoP token.")
        try:
            claims = self.tokens.verify(token)
        except TokenError as err:
            # Wording of the real service where known (AKV10046, TokenExpired); the
            # malformed / not-yet-valid texts are the emulator's own.
            messages = {
                "malformed": "AKV10001: The token is malformed and could not be parsed.",
                "signature_key": f"AKV10046: Unable to resolve the key used for signature validation. "
                                 f"EncodedJwtHeader: '{err.detail}'.",
                "signature": "AKV10046: Unable to resolve the key used for signature validation.",
                "expired": "[TokenExpired] Error validating token: 'S2S12086'.",
                "not_yet_valid": "Token not yet valid.",
            }
            raise self._unauthorized(vault, resource, messages[err.reason]) from None
        aud = str(claims.get("aud", ""))
        # Exact match: the service rejects "https://vault.azure.net/" (trailing slash).
        if aud != resource and aud != KEYVAULT_APP_ID:
            raise self._unauthorized(vault, resource,
                                     f"AKV10022: Invalid audience. Expected {resource}, found: {aud}.")
        if claims.get("tid") != vault["tenant_id"]:
            raise self._unauthorized(
                vault, resource,
                f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{vault['tenant_id']}/, "
                f"found {claims.get('iss')}.")
        return claims

    def _check_api_version(self, req) -> None:
        version = req.query.get("api-version")
        if version is None or version not in SUPPORTED_API_VERSIONS:
            # The unsupported-version text is the service's; for a missing
            # parameter the emulator says the same about the empty version.
            raise ServiceError(
                400, "BadParameter",
                f"The specified version ({version or ''}) is not recognized. Consider using the "
                f"latest supported version ({LATEST_API_VERSION}).")

    # ---- routing -----------------------------------------------------------------------

    def _dispatch(self, req, vault, claims) -> Response:
        if vault["kind"] == "managedhsm" and mhsm_rbac.is_authz_path(req.path):
            return mhsm_rbac.handle(self.state, req, vault, claims)
        found = ROUTES.match(req.method, req.path)
        if found is None:
            if ROUTES.knows(req.path):
                raise ServiceError(405, "MethodNotAllowed",
                                   f"The requested resource does not support http method '{req.method}'.")
            raise ServiceError(404, "NotFound", f"The requested path {req.path} was not found.")
        handler_name, params = found
        name = params.get("name")
        if name is not None:
            keystore.check_name(name)
        handler = getattr(self, handler_name)
        permission = handler.permissions[vault["kind"]] or cryptoops.OPERATIONS[params["op"].lower()]
        with self.state.lock:
            authz.check(vault, claims, permission, name, self.state.scope_role_assignments())
        return handler(req, vault, self._base(req), **params)

    @staticmethod
    def _base(req) -> str:
        """https://host[:port] as the client addressed the vault (default port omitted)."""
        host = req.hostname if ":" not in req.hostname else f"[{req.hostname}]"
        if req.host_port and req.host_port != 443:
            host += f":{req.host_port}"
        return "https://" + host

    @staticmethod
    def _json_body(req, required=True) -> dict:
        if not req.body:
            if required:
                raise ServiceError(400, "BadParameter", "The request body is missing.")
            return {}
        try:
            body = json.loads(req.body)
        except (ValueError, UnicodeDecodeError):
            raise ServiceError(400, "BadParameter", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ServiceError(400, "BadParameter", "The request body must be a JSON object.")
        return body

    # ---- validation of key parameters ----------------------------------------------------

    @staticmethod
    def _attributes(body) -> dict:
        attrs = body.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise ServiceError(400, "BadParameter", "Property 'attributes' must be an object.")
        for name in ("nbf", "exp"):
            if attrs.get(name) is not None and not isinstance(attrs[name], int):
                raise ServiceError(400, "BadParameter", f"Property 'attributes.{name}' must be a Unix time in seconds.")
        if "enabled" in attrs and not isinstance(attrs["enabled"], bool):
            raise ServiceError(400, "BadParameter", "Property 'attributes.enabled' must be a boolean.")
        return attrs

    @staticmethod
    def _key_ops(body, default):
        ops = body.get("key_ops")
        if ops is None:
            return list(default)
        if not isinstance(ops, list) or any(op not in keycrypto.KNOWN_OPS for op in ops):
            raise ServiceError(400, "BadParameter",
                               f"Invalid key_ops {ops!r}; allowed: {', '.join(keycrypto.KNOWN_OPS)}.")
        return ops

    @staticmethod
    def _tags(body):
        tags = body.get("tags")
        if tags is None:
            return None
        if not isinstance(tags, dict) or any(not isinstance(v, str) for v in tags.values()):
            raise ServiceError(400, "BadParameter", "Property 'tags' must map names to strings.")
        if len(tags) > 15:
            raise ServiceError(400, "BadParameter", "A key may have at most 15 tags.")
        return tags

    def _policy_exp(self, entry, created):
        """exp implied by the rotation policy's expiryTime (e.g. P48M), or None."""
        policy = (entry or {}).get("rotation_policy") or {}
        duration = (policy.get("attributes") or {}).get("expiryTime")
        return add_duration(created, duration) if duration else None

    # ---- key management -------------------------------------------------------------------

    @_needs("create")
    def _create(self, req, vault, base, name):
        body = self._json_body(req)
        kty = body.get("kty")
        if kty not in keycrypto.RSA_KTYS + keycrypto.EC_KTYS + keycrypto.OCT_KTYS:
            raise ServiceError(400, "BadParameter",
                               f"The key type '{kty}' is not supported; use RSA, RSA-HSM, EC, EC-HSM "
                               "or (Managed HSM) oct-HSM.")
        _refuse_oct_in_key_vault(vault, kty)
        size, crv = body.get("key_size"), body.get("crv")
        if kty in keycrypto.OCT_KTYS:
            kty, crv = "oct-HSM", None
            size = size or keycrypto.AES_DEFAULT_SIZE
            if size not in keycrypto.AES_SIZES:
                raise ServiceError(400, "BadParameter",
                                   f"The key size {size} is not supported for oct-HSM; use 128, 192 or 256.")
        elif kty in keycrypto.RSA_KTYS:
            size = size or 2048
            if size not in keycrypto.RSA_SIZES:
                raise ServiceError(400, "BadParameter", f"The key size {size} is not supported for {kty}.")
            if body.get("public_exponent") not in (None, 65537):
                raise ServiceError(400, "BadParameter", "Only the public exponent 65537 is supported.")
            crv = None
        else:
            crv = crv or "P-256"
            if crv not in keycrypto.CURVES:
                raise ServiceError(400, "BadParameter", f"The curve '{crv}' is not supported.")
        attrs = self._attributes(body)
        ops = self._key_ops(body, keycrypto.DEFAULT_OPS[keycrypto.family(kty)])
        tags = self._tags(body)
        with self.state.lock:
            keystore.refuse_if_deleted(vault, name)
        # Generated outside the lock: an RSA-4096 key takes a while.
        private_key = keycrypto.generate(kty, size, crv)
        with self.state.lock:
            entry = keystore.find_entry(vault, name)
            exp = attrs.get("exp")
            if exp is None:
                exp = self._policy_exp(entry, now())
            entry, record = keystore.add_version(
                self.state, vault, name, private_key, kty, ops, enabled=attrs.get("enabled", True),
                nbf=attrs.get("nbf"), exp=exp, tags=tags, exportable=attrs.get("exportable"),
                release_policy=body.get("release_policy"))
            return json_response(200, bundles.key_bundle(vault, base, entry, record, api=_api(req)))

    @_needs("import")
    @_locked
    def _import(self, req, vault, base, name):
        body = self._json_body(req)
        jwk = body.get("key")
        if not isinstance(jwk, dict):
            raise ServiceError(400, "BadParameter", "Property 'key' is required.")
        try:
            private_key = keycrypto.from_private_jwk(jwk)
        except keycrypto.CryptoError as exc:
            raise ServiceError(400, "BadParameter", str(exc)) from None
        fam = keycrypto.family(jwk["kty"])
        _refuse_oct_in_key_vault(vault, jwk["kty"])
        hsm = body.get("Hsm", body.get("hsm"))
        # Managed HSM keeps every key in the HSM: {"kty":"oct"} comes back oct-HSM.
        hsm = hsm or fam == "oct"
        kty = fam + "-HSM" if (hsm or jwk["kty"].endswith("-HSM")) else fam
        attrs = self._attributes(body)
        ops = self._key_ops(jwk, keycrypto.DEFAULT_OPS[fam])
        # The service echoes a `crv` sent with an RSA key (see ImportKey recording).
        extra = {"crv": jwk["crv"]} if fam == "RSA" and isinstance(jwk.get("crv"), str) else None
        entry, record = keystore.add_version(
            self.state, vault, name, private_key, kty, ops, enabled=attrs.get("enabled", True),
            nbf=attrs.get("nbf"), exp=attrs.get("exp"), tags=self._tags(body),
            exportable=attrs.get("exportable"), release_policy=body.get("release_policy"),
            public_extra=extra)
        return json_response(200, bundles.key_bundle(vault, base, entry, record, api=_api(req)))

    @_needs("rotate")
    def _rotate(self, req, vault, base, name):
        with self.state.lock:
            entry, latest = keystore.get_record(vault, name)
            latest = dict(latest)
        key = keycrypto.load_key(latest)
        fam = keycrypto.family(latest["kty"])
        size = keycrypto.key_size_of(key) if fam in ("RSA", "oct") else None
        crv = keycrypto.curve_of(key) if fam == "EC" else None
        private_key = keycrypto.generate(latest["kty"], size, crv)
        with self.state.lock:
            entry, record = keystore.add_version(
                self.state, vault, name, private_key, latest["kty"], latest["key_ops"],
                exp=self._policy_exp(entry, now()), tags=latest.get("tags"))
            return json_response(200, bundles.key_bundle(vault, base, entry, record, api=_api(req)))

    @_needs("get")
    @_locked
    def _get(self, req, vault, base, name, version=None):
        entry, record = keystore.get_record(vault, name, version)
        return json_response(200, bundles.key_bundle(vault, base, entry, record, api=_api(req)))

    @_needs("update")
    @_locked
    def _update(self, req, vault, base, name, version=None):
        body = self._json_body(req)
        entry, record = keystore.get_record(vault, name, version)
        ops = self._key_ops(body, record["key_ops"]) if "key_ops" in body else None
        keystore.update_record(self.state, record, key_ops=ops, attributes=self._attributes(body),
                               tags=self._tags(body) if "tags" in body else None)
        return json_response(200, bundles.key_bundle(vault, base, entry, record, api=_api(req)))

    @_needs("list")
    @_locked
    def _list_keys(self, req, vault, base):
        page = paging.paginate(req, keystore.sorted_entries(vault), lambda e: e["name"].upper(),
                               lambda e: bundles.key_item(vault, base, e, _api(req)))
        return json_response(200, page)

    @_needs("list")
    @_locked
    def _list_versions(self, req, vault, base, name):
        entry = keystore.find_entry(vault, name)
        versions = keystore.sorted_versions(entry) if entry else []
        page = paging.paginate(req, versions, lambda r: r["version"],
                               lambda r: bundles.version_item(vault, base, entry, r, _api(req)))
        return json_response(200, page)

    @_needs(None)
    def _crypto(self, req, vault, base, name, op, version=None):
        body = self._json_body(req)
        result = cryptoops.run(self.state.lock, vault, base, name, version,
                               cryptoops.OPERATIONS[op.lower()], body)
        return json_response(200, result)

    @_needs("backup")
    @_locked
    def _backup(self, req, vault, base, name):
        entry, _ = keystore.get_record(vault, name)
        return json_response(200, {"value": keystore.backup_blob(self.state, entry)})

    @_needs("restore")
    @_locked
    def _restore(self, req, vault, base):
        body = self._json_body(req)
        if not isinstance(body.get("value"), str) or not body["value"]:
            raise ServiceError(400, "BadParameter", "Property 'value' is required.")
        entry = keystore.restore_blob(self.state, vault, body["value"])
        latest = entry["versions"][entry["latest"]]
        return json_response(200, bundles.key_bundle(vault, base, entry, latest, api=_api(req)))

    # ---- rotation policy --------------------------------------------------------------------

    def _policy_doc(self, base, entry):
        policy = entry.get("rotation_policy")
        if not policy:
            # A key that never had a policy set: the service's default, without
            # an id and with null attributes (recorded at api-version 7.4:
            # {"lifetimeActions":[notify P30D],"attributes":null}).
            return {"lifetimeActions": [_default_notify()], "attributes": None}
        return {"id": f"{base}/keys/{entry['name']}/rotationpolicy",
                "lifetimeActions": policy["lifetimeActions"], "attributes": policy["attributes"]}

    @_needs("getrotationpolicy")
    @_locked
    def _get_rotation_policy(self, req, vault, base, name):
        entry, _ = keystore.get_record(vault, name)
        return json_response(200, self._policy_doc(base, entry))

    @_needs("setrotationpolicy")
    @_locked
    def _set_rotation_policy(self, req, vault, base, name):
        body = self._json_body(req)
        entry, _ = keystore.get_record(vault, name)
        actions = body.get("lifetimeActions") or []
        attrs = body.get("attributes") or {}
        if not isinstance(actions, list) or not isinstance(attrs, dict):
            raise ServiceError(400, "BadParameter", "Invalid rotation policy.")
        expiry = attrs.get("expiryTime")
        if expiry is not None and add_duration(0, expiry) is None:
            raise ServiceError(400, "BadParameter",
                               f"Invalid expiryTime '{expiry}'; use an ISO 8601 duration like P90D.")
        if not any(_action_type(a) == "notify" for a in actions):
            # The service always keeps a notify action: a policy set without
            # one comes back with the default appended (SDK recordings).
            actions = list(actions) + [_default_notify()]
        previous = entry.get("rotation_policy") or {}
        created = (previous.get("attributes") or {}).get("created", now())
        new_attrs = {}
        if expiry is not None:
            new_attrs["expiryTime"] = expiry
        new_attrs.update({"created": created, "updated": now()})
        entry["rotation_policy"] = {"lifetimeActions": actions, "attributes": new_attrs}
        self.state.save()
        return json_response(200, self._policy_doc(base, entry))

    # ---- soft delete ----------------------------------------------------------------------

    @_needs("delete")
    @_locked
    def _delete(self, req, vault, base, name):
        deleted = keystore.delete_key(self.state, vault, name)
        return json_response(200, bundles.deleted_bundle(vault, base, deleted, api=_api(req)))

    @_needs("get", hsm="readdeleted")
    @_locked
    def _get_deleted(self, req, vault, base, name):
        deleted = keystore.get_deleted(vault, name)
        return json_response(200, bundles.deleted_bundle(vault, base, deleted, api=_api(req)))

    # Managed HSM has a data action of its own for reading deleted keys.
    @_needs("list", hsm="readdeleted")
    @_locked
    def _list_deleted(self, req, vault, base):
        page = paging.paginate(req, keystore.sorted_deleted(vault), lambda d: d["entry"]["name"].upper(),
                               lambda d: bundles.deleted_item(vault, base, d, _api(req)))
        return json_response(200, page)

    @_needs("recover")
    @_locked
    def _recover(self, req, vault, base, name):
        entry = keystore.recover_key(self.state, vault, name)
        latest = entry["versions"][entry["latest"]]
        return json_response(200, bundles.key_bundle(vault, base, entry, latest, api=_api(req)))

    @_needs("purge")
    @_locked
    def _purge(self, req, vault, base, name):
        keystore.purge_key(self.state, vault, name)
        return Response(204)

    @_needs("release")
    def _release(self, req, vault, base, **_):
        raise ServiceError(501, "NotImplemented", "The emulator does not implement this operation yet.")


def _refuse_oct_in_key_vault(vault, kty) -> None:
    """Symmetric keys exist in Managed HSM only ("Symmetric (oct-HSM / AES)
    keys aren't supported in Key Vault": Key types, algorithms, and
    operations). The wording of the refusal is the emulator's own."""
    if kty in keycrypto.OCT_KTYS and vault["kind"] != "managedhsm":
        raise ServiceError(400, "BadParameter",
                           f"The key type '{kty}' is not supported in Key Vault; symmetric keys need a "
                           "Managed HSM.")


def _action_type(lifetime_action) -> str:
    """The action type of a lifetimeActions entry in lower case ("rotate", "notify"), or ""."""
    action = lifetime_action.get("action") if isinstance(lifetime_action, dict) else None
    return str(action.get("type", "")).lower() if isinstance(action, dict) else ""


def _default_notify() -> dict:
    """The notify action Key Vault adds to every rotation policy that lacks one."""
    return {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def add_duration(start: int, duration: str):
    """start + an ISO 8601 date duration (PnYnMnWnD), calendar-aware like the service;
    None when the duration is not of that form."""
    m = _DURATION.match(duration or "")
    if not m or not any(m.groups()):
        return None
    years, months, weeks, days = (int(g or 0) for g in m.groups())
    t = datetime.datetime.utcfromtimestamp(start)
    total_months = t.month - 1 + months + 12 * years
    year, month = t.year + total_months // 12, total_months % 12 + 1
    day = min(t.day, calendar.monthrange(year, month)[1])
    t = t.replace(year=year, month=month, day=day) + datetime.timedelta(days=days + 7 * weeks)
    return calendar.timegm(t.timetuple())
