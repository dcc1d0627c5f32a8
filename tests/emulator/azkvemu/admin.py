"""Admin API for tests: https://127.0.0.1:PORT/_emulator/... (loopback only, no auth).

It sets up the world the Azure APIs then serve (tenants, identities, vaults,
grants, keys) and bypasses Azure's own authorisation, so a test can arrange a
situation in one call. JSON in, JSON out; errors are {"error": {"code","message"}}.

  GET    /_emulator/health
  GET    /_emulator/tenant                      the default tenant
  GET    /_emulator/tenants                     POST {name, tenant_id?}
  GET    /_emulator/identities                  POST {name, client_id?, client_secret?, tenant?}
  GET    /_emulator/vaults                      POST {name, tenant?, location?, kind?, soft_delete?,
                                                      retention_days?, purge_protection?, rbac?}
  GET    /_emulator/vaults/{v}                  PATCH {rbac?, purge_protection?, soft_delete?, ...}
  PUT    /_emulator/vaults/{v}/access-policies/{identity}   {keys: [...]}   ([] removes)
  POST   /_emulator/vaults/{v}/role-assignments {identity, role, key?}
  DELETE /_emulator/vaults/{v}/role-assignments/{id}
  GET    /_emulator/vaults/{v}/hsm-role-assignments   Managed HSM local RBAC (mhsm_rbac.py):
  POST   /_emulator/vaults/{v}/hsm-role-assignments   {identity, role, scope?: "/" | "/keys" | "/keys/K", key?}
  DELETE /_emulator/vaults/{v}/hsm-role-assignments/{name}
  POST   /_emulator/vaults/{v}/keys             {name, kty?, size?, crv?, ops?, disabled?, tags?, nbf?, exp?}
                                                (kty oct-HSM, size 128/192/256: Managed HSM only)
  POST   /_emulator/vaults/{v}/keys/{k}/import  {pem, ops?, hsm?, disabled?, tags?}
  GET    /_emulator/vaults/{v}/keys/{k}/public  ?version=   -> {kid, version, kty, pem}
  POST   /_emulator/tokens                      {identity, resource?, lifetime?, not_before_offset?}
  GET    /_emulator/faults  POST {rule}  DELETE (clears all)       see faults.py
  GET    /_emulator/faults/stats                {seed, requests {service: n}, injected {kind: n}, injected_total}
  PUT    /_emulator/faults/seed                 {seed}  (null: a random one) reseeds and zeroes the counts
  GET    /_emulator/hostile POST {rule}  DELETE (clears all)       TEST-ONLY hostile vault, see hostile.py
  GET    /_emulator/requests             DELETE (clears)           request log: host, method, path,
                                                whether a token and a body came, status,
                                                x-ms-request-id (request_log.py)
  GET/PUT /_emulator/limits                     PUT {enabled}: Key Vault's transaction limits per vault,
                                                429 past them (limits.py); GET adds window_s, budget, throttled
  GET    /_emulator/accounts                    POST {name, location?, kind?, identity?: "system",
                                                      resource_group?, subscription_id?}  (CognitiveServices)
  GET    /_emulator/accounts/{a}/cmk          the account's customer-managed key as the service sees it:
                                                {keySource, keyAccessible, keyVersionInUse, kid, error,
                                                 wrappedVersions} (re-checked by unwrapping as its identity)
  PUT    /_emulator/imds                        {identity}   the identity IMDS answers for without a selector
  GET    /_emulator/arm-rbac                    PUT {enabled}   control-plane RBAC of ARM callers (arm_rbac.py)
  POST   /_emulator/role-assignments            {identity, role, scope}   at any ARM scope role assignments take
                                                (subscription, resource group, vault, key, account, workspace)
  DELETE /_emulator/role-assignments/{id}       by assignment name (GUID), at whatever scope it is
  POST   /_emulator/projects                    {account, name, identity?: "system" | "none" | a user-assigned
                                                identity's ARM id, display_name?, tenant?}  (a Foundry project,
                                                as the ARM PUT makes it: arm_projects.py)
  GET    /_emulator/workspaces                  POST {name, location?, resource_group?, encryption?, kind?,
                                                      hub_resource_id?}  (ML)

  Identity (Entra credentials other than secrets, managed-identity endpoints, lifetimes):
  POST   /_emulator/identities/{i}/certificates {pem} | {generate: true, subject?}   register a certificate
                                                -> {identity, client_id, subject, thumbprint, thumbprint_sha256,
                                                    x5t, x5t#S256, not_before, not_after[, certificate, private_key]}
  POST   /_emulator/certificates                {subject, days?}  a client certificate issued by the test CA
                                                (DIR/ca.pem), registered nowhere (for subject name + issuer)
                                                -> {subject, certificate, private_key, chain, thumbprint, ...}
  POST   /_emulator/identities/{i}/trusted-subjects        {subject, ca_pem?}  (default CA: the test CA)
  POST   /_emulator/identities/{i}/federated-credentials   {subject, issuer?, audience?, name?}
                                                (issuer default: the built-in OIDC issuer, oidc.py;
                                                 audience default api://AzureADTokenExchange)
  POST   /_emulator/federated-tokens            {subject, audience?, lifetime?, issuer?, not_before_offset?}
                                                -> {token, issuer, subject, audience, exp}
  GET/PUT /_emulator/app-service                PUT {identity}: new secret, default identity ->
                                                {endpoint, header, identity, client_id}  (appservice.py)
  GET/PUT /_emulator/arc                        PUT {identity} -> {identity_endpoint, imds_endpoint, key_dir,
                                                identity, client_id}  (arc.py)
  GET/PUT /_emulator/token-lifetime             PUT {seconds} (null: back to the defaults): lifetime of every
                                                token issued from now on (Entra, IMDS, App Service, Arc)
"""

import json

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from . import authz, bundles, certs, keycrypto, keystore, mhsm_rbac, oidc as oidc_mod
from .arm_private_link import add_connection
from .httpmsg import ServiceError, json_response
from .limits import VaultLimits
from .request_log import RequestLog
from .routes import Routes
from .state import StateError, vault_resource_id
from .util import new_uuid

PREFIX = "/_emulator"


def is_admin_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _public_vault(vault: dict) -> dict:
    """Vault properties without the keys (those are read through the Key Vault API)."""
    out = {k: v for k, v in vault.items() if k not in ("keys", "deleted_keys")}
    out["resource_id"] = vault_resource_id(vault)
    out["uri"] = default_base(vault) + "/"
    out["key_count"] = len(vault["keys"])
    return out


def default_base(vault: dict) -> str:
    suffix = "managedhsm.azure.net" if vault["kind"] == "managedhsm" else "vault.azure.net"
    return f"https://{vault['name']}.{suffix}"


class AdminService:
    def __init__(self, state, tokens, faults, arm=None, oidc=None, appservice=None, arc=None, ca_file=None,
                 hostile=None, request_log=None, limits=None, read_only=False):
        self.arm = arm
        self.read_only = read_only  # serve --workers: each process would change its own copy
        self.state = state
        self.tokens = tokens
        self.faults = faults
        self.oidc = oidc
        self.appservice = appservice
        self.arc = arc
        self.ca_file = ca_file
        self.hostile = hostile
        self.request_log = request_log if request_log is not None else RequestLog()
        self.limits = limits if limits is not None else VaultLimits()
        self.routes = Routes([
            ("GET", r"/health", self._health),
            ("GET", r"/tenant", self._default_tenant),
            ("GET", r"/tenants", self._list_tenants),
            ("POST", r"/tenants", self._add_tenant),
            ("GET", r"/identities", self._list_identities),
            ("POST", r"/identities", self._add_identity),
            ("GET", r"/vaults", self._list_vaults),
            ("POST", r"/vaults", self._add_vault),
            ("GET", r"/vaults/(?P<v>[^/]+)", self._get_vault),
            ("PATCH", r"/vaults/(?P<v>[^/]+)", self._update_vault),
            ("PUT", r"/vaults/(?P<v>[^/]+)/access-policies/(?P<ident>[^/]+)", self._set_policy),
            ("POST", r"/vaults/(?P<v>[^/]+)/role-assignments", self._assign_role),
            ("DELETE", r"/vaults/(?P<v>[^/]+)/role-assignments/(?P<aid>[^/]+)", self._unassign_role),
            ("GET", r"/vaults/(?P<v>[^/]+)/hsm-role-assignments", self._hsm_list_roles),
            ("POST", r"/vaults/(?P<v>[^/]+)/hsm-role-assignments", self._hsm_assign_role),
            ("DELETE", r"/vaults/(?P<v>[^/]+)/hsm-role-assignments/(?P<name>[^/]+)", self._hsm_unassign_role),
            ("POST", r"/vaults/(?P<v>[^/]+)/keys", self._create_key),
            ("POST", r"/vaults/(?P<v>[^/]+)/keys/(?P<k>[^/]+)/import", self._import_key),
            ("GET", r"/vaults/(?P<v>[^/]+)/keys/(?P<k>[^/]+)/public", self._public_key),
            ("POST", r"/tokens", self._issue_token),
            ("GET", r"/faults", self._list_faults),
            ("POST", r"/faults", self._add_fault),
            ("DELETE", r"/faults", self._clear_faults),
            ("GET", r"/faults/stats", lambda req, body: self.faults.stats()),
            ("PUT", r"/faults/seed", lambda req, body: self.faults.reseed(body.get("seed"))),
            ("GET", r"/hostile", lambda req, body: {"value": self._hostile().list()}),
            ("POST", r"/hostile", lambda req, body: self._hostile().add(body)),
            ("DELETE", r"/hostile", self._clear_hostile),
            ("GET", r"/requests", lambda req, body: {"value": self.request_log.entries()}),
            ("DELETE", r"/requests", self._clear_requests),
            ("GET", r"/limits", lambda req, body: self.limits.settings()),
            ("PUT", r"/limits", lambda req, body: self.limits.configure(body)),
            ("GET", r"/accounts", lambda req, body: self.arm.admin_list("account")),
            ("POST", r"/accounts", self._add_account),
            ("GET", r"/accounts/(?P<a>[^/]+)/cmk", self._account_cmk),
            ("POST", r"/projects", lambda req, body: self.arm.projects.admin_add(body, body.get("tenant"))),
            ("GET", r"/workspaces", lambda req, body: self.arm.admin_list("workspace")),
            ("POST", r"/workspaces", self._add_workspace),
            ("PUT", r"/imds", self._set_imds),
            ("GET", r"/arm-rbac", lambda req, body: {"enabled": self.arm.arm_rbac}),
            ("PUT", r"/arm-rbac", self._set_arm_rbac),
            ("POST", r"/role-assignments", self._assign_scope_role),
            ("DELETE", r"/role-assignments/(?P<aid>[^/]+)", self._unassign_scope_role),
            ("POST", r"/identities/(?P<ident>[^/]+)/certificates", self._add_certificate),
            ("POST", r"/certificates", self._issue_certificate),
            ("POST", r"/identities/(?P<ident>[^/]+)/trusted-subjects", self._trust_subject),
            ("POST", r"/identities/(?P<ident>[^/]+)/federated-credentials", self._add_federated_credential),
            ("POST", r"/federated-tokens", self._issue_federated_token),
            ("GET", r"/app-service", self._get_app_service),
            ("PUT", r"/app-service", self._set_app_service),
            ("GET", r"/arc", self._get_arc),
            ("PUT", r"/arc", self._set_arc),
            ("GET", r"/token-lifetime", lambda req, body: self.tokens.lifetimes()),
            ("PUT", r"/token-lifetime", self._set_token_lifetime),
            # Private Link: the connection a private endpoint (Microsoft.Network) makes (arm_private_link.py)
            ("POST", r"/vaults/(?P<v>[^/]+)/private-endpoint-connections", self._add_private_endpoint),
        ], ignore_case=False, unquote_params=True)

    def handle(self, req):
        sub = req.path[len(PREFIX):].rstrip("/") or "/"
        try:
            found = self.routes.match(req.method, sub)
            if found is None:
                raise ServiceError(404, "NotFound", f"no admin route {req.method} {req.path}")
            if self.read_only and req.method != "GET":
                raise StateError("this emulator runs --workers processes, each with its "
                                 "own copy of the state: the admin API only reads",
                                 409)
            handler, params = found
            return json_response(200, handler(req, self._body(req), **params))
        except StateError as err:
            code = {404: "NotFound", 409: "Conflict"}.get(err.status, "BadRequest")
            return ServiceError(err.status, code, str(err)).response()
        except keycrypto.CryptoError as err:
            return ServiceError(400, "BadRequest", str(err)).response()
        except ServiceError as err:
            return err.response()

    @staticmethod
    def _body(req) -> dict:
        if not req.body:
            return {}
        try:
            body = json.loads(req.body)
        except ValueError:
            raise ServiceError(400, "BadRequest", "request body is not JSON") from None
        if not isinstance(body, dict):
            raise ServiceError(400, "BadRequest", "request body must be a JSON object")
        return body

    # ---- world ------------------------------------------------------------------------

    def _health(self, req, body):
        return {"status": "ok"}

    def _default_tenant(self, req, body):
        tenant = self.state.default_tenant()
        return {"tenant_id": tenant["id"], "name": tenant["name"], "domain": tenant["domain"], "default": True}

    def _list_tenants(self, req, body):
        default = self.state.doc["default_tenant"]
        return {"value": [dict(t, default=(t["id"] == default)) for t in self.state.doc["tenants"].values()]}

    def _add_tenant(self, req, body):
        if not body.get("name"):
            raise StateError("name is required")
        tenant = self.state.add_tenant(body["name"], body.get("tenant_id"))
        return {"tenant_id": tenant["id"], "name": tenant["name"], "domain": tenant["domain"], "default": False}

    def _list_identities(self, req, body):
        return {"value": list(self.state.doc["identities"].values())}

    def _add_identity(self, req, body):
        if not body.get("name"):
            raise StateError("name is required")
        ident = self.state.add_identity(body["name"], body.get("client_id"), body.get("client_secret"),
                                        body.get("tenant"), kind="managed" if body.get("managed") else "app")
        return {k: ident[k] for k in ("name", "client_id", "object_id", "tenant_id", "client_secret")}

    def _list_vaults(self, req, body):
        with self.state.lock:
            return {"value": [_public_vault(v) for v in self.state.doc["vaults"].values()]}

    def _add_vault(self, req, body):
        if not body.get("name"):
            raise StateError("name is required")
        vault = self.state.add_vault(
            body["name"], tenant=body.get("tenant"), location=body.get("location") or "eastus",
            kind=body.get("kind") or "vault", soft_delete=body.get("soft_delete", True),
            retention_days=body.get("retention_days", 90),
            purge_protection=body.get("purge_protection", False), rbac=body.get("rbac", False))
        return _public_vault(vault)

    def _get_vault(self, req, body, v):
        with self.state.lock:
            return _public_vault(self.state.require_vault(v))

    def _update_vault(self, req, body, v):
        props = {"enable_rbac_authorization": body.get("rbac"),
                 "purge_protection": body.get("purge_protection"),
                 "soft_delete": body.get("soft_delete"),
                 "retention_days": body.get("retention_days"),
                 "location": body.get("location")}
        return _public_vault(self.state.update_vault(v, **props))

    def _hsm(self, v) -> dict:
        vault = self.state.require_vault(v)
        if vault["kind"] != "managedhsm":
            raise StateError(f"'{v}' is a Key Vault, not a Managed HSM: use set-policy or assign-role")
        return vault

    def _hsm_list_roles(self, req, body, v):
        with self.state.lock:
            vault = self._hsm(v)
            return {"value": [dict(mhsm_rbac.assignment_json(a),
                                   role_name=mhsm_rbac.BUILTIN_ROLES[a["role_definition_id"]][0])
                              for a in mhsm_rbac.assignments(vault)]}

    @staticmethod
    def _role_and_identity(body, model):
        """The role id an assignment request names, from model's built-in roles
        (authz or mhsm_rbac), and that it names an identity."""
        role_id = model.find_role(body.get("role", ""))
        if role_id is None:
            known = ", ".join(name for name, _ in model.BUILTIN_ROLES.values())
            raise StateError(f"unknown role '{body.get('role')}'; built-in roles: {known}")
        if not body.get("identity"):
            raise StateError("identity is required")
        return role_id

    def _hsm_assign_role(self, req, body, v):
        """A local role assignment in a Managed HSM, made without the HSM's own authorization."""
        role_id = self._role_and_identity(body, mhsm_rbac)
        if body.get("key") and body.get("scope"):
            raise StateError("give key or scope, not both")
        scope = mhsm_rbac.normalize_scope(f"/keys/{body['key']}" if body.get("key") else body.get("scope") or "/")
        if scope is None:
            raise StateError(f"scope '{body.get('scope')}' is not /, /keys or /keys/NAME")
        ident = self.state.find_identity(body["identity"])
        principal = ident["object_id"] if ident else body["identity"]
        with self.state.lock:
            vault = self._hsm(v)
            a = mhsm_rbac.add_assignment(self.state, vault, new_uuid(), principal, role_id, scope)
            return dict(mhsm_rbac.assignment_json(a), role_name=mhsm_rbac.BUILTIN_ROLES[role_id][0])

    def _hsm_unassign_role(self, req, body, v, name):
        with self.state.lock:
            if mhsm_rbac.remove_assignment(self.state, self._hsm(v), name) is None:
                raise StateError(f"no role assignment '{name}' in Managed HSM '{v}'", 404)
        return {"deleted": name}

    def _refuse_hsm(self, v, what):
        vault = self.state.require_vault(v)
        if vault["kind"] == "managedhsm":
            # Managed HSM has neither access policies nor Azure RBAC on its data plane.
            raise StateError(f"'{v}' is a Managed HSM: it has no {what}; its local RBAC decides "
                             "(use hsm-assign-role)")

    def _set_policy(self, req, body, v, ident):
        self._refuse_hsm(v, "access policies")
        keys = body.get("keys", [])
        if isinstance(keys, str):
            keys = keys.split(",")
        return self.state.set_access_policy(v, ident, keys)

    def _assign_role(self, req, body, v):
        role_id = self._role_and_identity(body, authz)
        self._refuse_hsm(v, "Azure RBAC data-plane roles")
        with self.state.lock:
            vault = self.state.require_vault(v)
            scope = authz.key_scope(vault, body.get("key"))
        assignment = self.state.add_role_assignment(v, body["identity"], role_id, scope)
        return dict(assignment, role_name=authz.BUILTIN_ROLES[role_id][0])

    def _assign_scope_role(self, req, body):
        """A role assignment at an ARM scope, made without ARM's authorization (for control-plane RBAC)."""
        if not body.get("scope") or not body.get("identity"):
            raise StateError("scope and identity are required")
        return self.arm.admin_assign(body["scope"], body["identity"], body.get("role"))

    def _unassign_scope_role(self, req, body, aid):
        with self.state.lock:
            for container, a in list(self.arm.authorization.all_assignments()):
                if a["id"].lower() == aid.lower():
                    container.remove(a)
                    self.state.save()
                    return {"deleted": aid}
        raise StateError(f"no role assignment '{aid}'", 404)

    def _set_arm_rbac(self, req, body):
        if not isinstance(body.get("enabled"), bool):
            raise StateError("enabled (true or false) is required")
        self.arm.arm_rbac = body["enabled"]
        return {"enabled": self.arm.arm_rbac}

    def _unassign_role(self, req, body, v, aid):
        self.state.remove_role_assignment(v, aid)
        return {"deleted": aid}

    # ---- keys (bypass Azure authorisation) -------------------------------------------------

    def _store(self, vault, name, private_key, kty, body):
        keystore.check_name(name)
        fam = keycrypto.family(kty)
        ops = body.get("ops") or keycrypto.DEFAULT_OPS[fam]
        if isinstance(ops, str):
            ops = [o for o in ops.split(",") if o]
        bad = [o for o in ops if o not in keycrypto.KNOWN_OPS]
        if bad:
            raise StateError(f"unknown key operations {bad}; known: {', '.join(keycrypto.KNOWN_OPS)}")
        with self.state.lock:
            entry, record = keystore.add_version(
                self.state, vault, name, private_key, kty, ops, enabled=not body.get("disabled"),
                nbf=body.get("nbf"), exp=body.get("exp"), tags=body.get("tags"))
            return bundles.key_bundle(vault, default_base(vault), entry, record)

    def _create_key(self, req, body, v):
        """One key ({name, kty, ...}), or many ({"keys": [{name, kty, ...}, ...]}) saved in
        one state write -> {"value": [bundle, ...]} (at the first bad one: its error, the
        ones before it made)."""
        if "keys" in body:
            specs = body["keys"]
            if not isinstance(specs, list) or not all(isinstance(k, dict) for k in specs):
                raise StateError("keys: a list of keys {name, kty, ...}")
            with self.state.batch():
                return {"value": [self._create_key(req, spec, v) for spec in specs]}
        vault = self.state.require_vault(v)
        name = body.get("name") or ""
        kty = body.get("kty") or "RSA"
        if kty not in keycrypto.RSA_KTYS + keycrypto.EC_KTYS + keycrypto.OCT_KTYS:
            raise StateError(f"unsupported kty '{kty}'")
        size, crv = body.get("size"), body.get("crv")
        if kty in keycrypto.OCT_KTYS:
            if vault["kind"] != "managedhsm":
                raise StateError(f"'{v}' is a Key Vault: oct-HSM keys exist in Managed HSMs only")
            if (size or keycrypto.AES_DEFAULT_SIZE) not in keycrypto.AES_SIZES:
                raise StateError(f"unsupported AES size {size} (128, 192 or 256)")
            keystore.check_name(name)
            return self._store(vault, name, keycrypto.generate(kty, size), "oct-HSM", body)
        if kty in keycrypto.RSA_KTYS and (size or 2048) not in keycrypto.RSA_SIZES:
            raise StateError(f"unsupported RSA size {size}")
        if kty in keycrypto.EC_KTYS and (crv or "P-256") not in keycrypto.CURVES:
            raise StateError(f"unsupported curve {crv}")
        keystore.check_name(name)
        return self._store(vault, name, keycrypto.generate(kty, size, crv), kty, body)

    def _import_key(self, req, body, v, k):
        vault = self.state.require_vault(v)
        if not body.get("pem"):
            raise StateError("pem is required")
        private_key = keycrypto.load_import_pem(body["pem"].encode("ascii"))
        fam = "EC" if isinstance(private_key, ec.EllipticCurvePrivateKey) else "RSA"
        kty = fam + ("-HSM" if body.get("hsm") else "")
        return self._store(vault, k, private_key, kty, body)

    def _public_key(self, req, body, v, k):
        with self.state.lock:
            vault = self.state.require_vault(v)
            entry, record = keystore.get_record(vault, k, req.query.get("version"))
            if record.get("k"):
                raise StateError(f"key '{k}' is an AES key: it has no public key")
            return {"kid": bundles.key_id(default_base(vault), entry, record), "version": record["version"],
                    "kty": record["kty"], "pem": keycrypto.public_pem(keycrypto.load_key(record))}

    # ---- tokens and faults ------------------------------------------------------------

    def _issue_token(self, req, body):
        """A token without the OAuth dance; lifetime <= 0 gives an already-expired token."""
        ident = self.state.find_identity(body.get("identity", ""))
        if ident is None:
            raise StateError(f"unknown identity '{body.get('identity')}'", 404)
        resource = body.get("resource") or "https://vault.azure.net"
        lifetime = body.get("lifetime")
        lifetime = int(self.tokens.lifetime("entra") if lifetime is None else lifetime)
        issued = self.tokens.issue(ident, resource, lifetime, int(body.get("not_before_offset", 0)))
        return {"access_token": issued["token"], "claims": issued["claims"]}

    # ---- ARM resources (same code as the ARM PUT, without its authentication) -----------

    def _add_account(self, req, body):
        if not body.get("name"):
            raise StateError("name is required")
        arm_body = {"name": body["name"], "location": body.get("location") or "eastus",
                    "kind": body.get("kind") or "AIServices", "sku": {"name": "S0"},
                    "resource_group": body.get("resource_group"), "subscription_id": body.get("subscription_id"),
                    "properties": {"customSubDomainName": body["name"]}}
        if body.get("identity") in ("system", "SystemAssigned"):
            arm_body["identity"] = {"type": "SystemAssigned"}
        return self.arm.admin_put("account", arm_body, body.get("tenant"))

    def _account_cmk(self, req, body, a):
        with self.state.lock:
            rec = self.state.doc.get("accounts", {}).get(a.lower())
            if rec is None:
                raise StateError(f"unknown account '{a}'", 404)
            return self.arm.foundry_keys.status(rec)

    def _set_imds(self, req, body):
        ident = self.state.find_identity(body.get("identity", ""))
        if ident is None or ident.get("kind") != "managed":
            raise StateError(f"no managed identity '{body.get('identity')}'", 404)
        with self.state.lock:
            self.state.doc["imds_identity"] = ident["client_id"]
            self.state.save()
        return {k: ident[k] for k in ("name", "client_id", "object_id", "tenant_id")}

    def _add_workspace(self, req, body):
        if not body.get("name"):
            raise StateError("name is required")
        arm_body = {"name": body["name"], "location": body.get("location") or "eastus",
                    "kind": body.get("kind") or "Default",
                    "resource_group": body.get("resource_group"), "subscription_id": body.get("subscription_id"),
                    "properties": {}}
        if body.get("encryption"):
            arm_body["properties"]["encryption"] = body["encryption"]
        if body.get("hub_resource_id"):
            arm_body["properties"]["hubResourceId"] = body["hub_resource_id"]
        if body.get("identity") in ("system", "SystemAssigned"):
            arm_body["identity"] = {"type": "SystemAssigned"}
        return self.arm.admin_put("workspace", arm_body, body.get("tenant"))

    def _list_faults(self, req, body):
        return {"value": self.faults.list()}

    def _add_fault(self, req, body):
        return self.faults.add(body)

    def _clear_faults(self, req, body):
        self.faults.clear()
        return {"value": []}

    def _hostile(self):
        if self.hostile is None:
            raise ServiceError(404, "NotFound", "this emulator has no hostile mode")
        return self.hostile

    def _clear_hostile(self, req, body):
        self._hostile().clear()
        return {"value": []}

    def _clear_requests(self, req, body):
        self.request_log.clear()
        return {"value": []}

    # ---- identity: certificates, federated credentials, managed-identity endpoints -------------

    @staticmethod
    def _cert_out(ident, record) -> dict:
        out = {"identity": ident["name"], "client_id": ident["client_id"]}
        out.update({k: record[k] for k in ("subject", "thumbprint", "thumbprint_sha256", "x5t", "x5t#S256",
                                            "not_before", "not_after")})
        return out

    def _add_certificate(self, req, body, ident):
        """Register a certificate on an app (its public part only, as keyCredentials); with
        generate, a new self-signed RSA-2048 certificate whose private key is returned once."""
        key = None
        if body.get("generate"):
            key, cert = certs.make_client_certificate(body.get("subject") or f"CN={ident}")
        elif body.get("pem"):
            found = certs.load_pem_certificates(body["pem"].encode("ascii", "replace"))
            if not found:
                raise StateError("pem holds no certificate (-----BEGIN CERTIFICATE-----)")
            cert = found[0]
        else:
            raise StateError("pem (a certificate) or generate: true is required")
        record = certs.certificate_record(cert)
        out = self._cert_out(self.state.add_certificate(ident, record), record)
        if key is not None:
            out["certificate"] = certs.pem_of(cert)
            out["private_key"] = certs.pem_of(key)
        return out

    def _issue_certificate(self, req, body):
        """A client certificate issued by the emulator's test CA, for subject name + issuer."""
        try:
            ca = certs.load_ca(self.state.state_dir)
            key, cert = certs.make_client_certificate(body.get("subject") or "", ca=ca,
                                                      days=int(body.get("days") or 365))
        except ValueError as exc:
            raise StateError(str(exc)) from None
        record = certs.certificate_record(cert)
        out = {k: record[k] for k in ("subject", "thumbprint", "thumbprint_sha256", "x5t", "x5t#S256",
                                      "not_before", "not_after")}
        out.update({"certificate": certs.pem_of(cert), "private_key": certs.pem_of(key),
                    "chain": certs.pem_of(cert) + certs.pem_of(ca[1])})
        return out

    def _trust_subject(self, req, body, ident):
        subject = (body.get("subject") or "").strip()
        try:
            canonical = certs.parse_name(subject).rfc4514_string()
        except ValueError as exc:
            raise StateError(str(exc)) from None
        ca_pem = body.get("ca_pem") or None
        if ca_pem:
            try:
                x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
            except ValueError:
                raise StateError("ca_pem is not a PEM certificate") from None
        rec = self.state.add_trusted_subject(ident, canonical, ca_pem)
        return {"identity": rec["name"], "client_id": rec["client_id"], "subject": canonical,
                "ca": "given" if ca_pem else self.ca_file}

    def _add_federated_credential(self, req, body, ident):
        issuer = body.get("issuer") or oidc_mod.ISSUER
        if not oidc_mod.valid_issuer_url(issuer):
            raise StateError(f"issuer must be an https URL, not '{issuer}'")
        audiences = body.get("audiences") or [body.get("audience") or oidc_mod.DEFAULT_AUDIENCE]
        name = body.get("name") or f"fic-{_fic_name(body.get('subject') or '')}"
        rec = self.state.add_federated_credential(ident, name, issuer, body.get("subject") or "", audiences)
        self.oidc.ensure(issuer)   # the emulator holds every trusted issuer's keys
        owner = self.state.require_identity(ident)
        return dict(rec, identity=owner["name"], client_id=owner["client_id"])

    def _issue_federated_token(self, req, body):
        if not body.get("subject"):
            raise StateError("subject is required")
        issuer = body.get("issuer") or oidc_mod.ISSUER
        if not oidc_mod.valid_issuer_url(issuer):
            raise StateError(f"issuer must be an https URL, not '{issuer}'")
        lifetime = body.get("lifetime")
        return self.oidc.issue(body["subject"], body.get("audience") or oidc_mod.DEFAULT_AUDIENCE,
                               int(3600 if lifetime is None else lifetime), issuer,
                               int(body.get("not_before_offset") or 0))

    def _managed(self, ref):
        ident = self.state.find_identity(ref or "")
        if ident is None or ident.get("kind") != "managed":
            raise StateError(f"no managed identity '{ref}'", 404)
        return ident

    def _app_service_out(self, req, conf):
        ident = self.state.find_identity(conf.get("identity") or "")
        return {"endpoint": f"https://{req.host_header}/msi/token", "header": conf.get("secret"),
                "identity": ident["name"] if ident else None, "client_id": conf.get("identity")}

    def _get_app_service(self, req, body):
        with self.state.lock:
            conf = dict(self.state.doc.get("app_service") or {})
        return self._app_service_out(req, conf)

    def _set_app_service(self, req, body):
        return self._app_service_out(req, self.appservice.configure(self._managed(body.get("identity"))))

    def _arc_out(self, req):
        with self.state.lock:
            client_id = self.state.doc.get("arc_identity")
        ident = self.state.find_identity(client_id or "")
        return {"identity_endpoint": f"https://{req.host_header}/_arc/metadata/identity/oauth2/token",
                "imds_endpoint": f"https://{req.host_header}/_arc", "key_dir": self.arc.key_dir,
                "identity": ident["name"] if ident else None, "client_id": client_id}

    def _get_arc(self, req, body):
        return self._arc_out(req)

    def _set_arc(self, req, body):
        self.arc.configure(self._managed(body.get("identity")))
        return self._arc_out(req)

    def _set_token_lifetime(self, req, body):
        seconds = body.get("seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1):
            raise StateError("seconds must be a whole number of seconds, 1 or more (null: the defaults)")
        self.tokens.lifetime_override = seconds
        return self.tokens.lifetimes()

    def _add_private_endpoint(self, req, body, v):
        if not body.get("name"):
            raise StateError("name is required")
        with self.state.lock:
            vault = self.state.require_vault(v)
            conn = add_connection(self.state, vault, body["name"], body.get("endpoint_id"),
                                  body.get("status") or "Pending")
            return {"vault": vault["name"], "name": conn["name"], "status": conn["status"],
                    "privateEndpoint": conn["private_endpoint_id"]}


def _fic_name(text: str) -> str:
    """A federated credential name derived from a subject (names allow letters, digits, - and _)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:100].strip("-")
    return cleaned or "credential"
