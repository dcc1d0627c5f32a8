"""The emulator's persistent world: tenants, identities, vaults, grants and keys.

Stored as one JSON document in DIR/state.json, rewritten atomically after every
change, so a restarted emulator (or a test that restarts it) sees the same
vaults, keys and identities. Plain dicts keep the file readable by people.

Shape (version 1):
  tenants:    {tenant_id: {id, name, domain}}
  default_tenant: tenant_id
  signing_key: {kid, pem}                      Entra token signing key (RS256)
  identities: {client_id: {name, client_id, object_id, tenant_id, client_secret, kind,
               certificates: [{der, subject, not_before, not_after, thumbprint, thumbprint_sha256,
                               x5t, x5t#S256}],                      registered keyCredentials
               trusted_subjects: [{subject, ca_pem | null}],       subject name + issuer (null:
                                                                    the emulator's test CA)
               federated_credentials: [{name, issuer, subject, audiences}]}}
                                                                    (the three lists are optional)
  vaults:     {lower(name): {name, kind: vault|managedhsm, tenant_id, location,
               subscription_id, resource_group, sku, soft_delete, retention_days,
               purge_protection, enable_rbac_authorization,
               access_policies: {object_id: {keys: [permission...]}},
               role_assignments: [{id, principal_id, role_definition_id, scope}],
               (Managed HSM) local_role_assignments: [{name, principal_id,
                                role_definition_id, scope: / | /keys | /keys/NAME}],
               keys: {lower(name): {name, latest, versions: {version: record},
                                    rotation_policy}},
               deleted_keys: {lower(name): {key: <key entry>, deleted_date,
                                            scheduled_purge_date}},
               (set through ARM) tags, network_acls, public_network_access, created_at;
               access_policies entries may also hold tenant_id, application_id,
               secrets, certificates, storage}}
  accounts:   {lower(name): Microsoft.CognitiveServices account (arm.py)}
  workspaces: {lower(name): Microsoft.MachineLearningServices workspace (arm.py)}
  role_assignments: [{id, principal_id, role_definition_id, scope, ...}]   at subscription,
              resource-group, account or workspace scope (vault and key scopes live in the
              vault); inherited below
  operations: {id: {status, start, account}}   ARM long-running operations
  imds_identity: client_id IMDS answers for without a selector
  app_service: {identity: client_id, secret}   App Service endpoint (appservice.py)
  arc_identity: client_id the Azure Arc endpoint answers for (arc.py)
  oidc_issuers: {issuer url: {kid, pem}}       test OIDC issuers of federated tokens (oidc.py)
  identities of kind "managed" are managed identities (IMDS); "app" are app registrations

Everything that touches the document holds `State.lock` (re-entrant), so the
threaded HTTP server can serve requests concurrently.
"""

import contextlib
import json
import os
import re
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .util import atomic_write, json_bytes, new_uuid

STATE_FILE = "state.json"
SCHEMA_VERSION = 1

# The access-policy key permissions Azure knows, in their canonical spelling.
KEY_PERMISSIONS = [
    "get", "list", "update", "create", "import", "delete", "recover", "backup",
    "restore", "decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign",
    "purge", "release", "rotate", "getrotationpolicy", "setrotationpolicy",
]
_CANONICAL_PERMISSION = {p.lower(): p for p in KEY_PERMISSIONS}
_CANONICAL_PERMISSION["all"] = "all"


class StateError(Exception):
    """A request to change the world that cannot be honoured (bad name, duplicate...)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def canonical_permissions(names) -> list:
    """Permissions are case-insensitive in Azure (wrapkey == wrapKey); keep one spelling."""
    out = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        canon = _CANONICAL_PERMISSION.get(name.lower())
        if canon is None:
            raise StateError(f"unknown key permission '{name}'; known: {', '.join(KEY_PERMISSIONS)}")
        if canon == "all":
            return list(KEY_PERMISSIONS)
        if canon not in out:
            out.append(canon)
    return out


class State:
    def __init__(self, state_dir: str):
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, STATE_FILE)
        self.lock = threading.RLock()
        self.doc = None
        self._batch_depth = 0     # inside batch(): save() only marks the state dirty
        self._dirty = False

    # ---- persistence -------------------------------------------------------

    def load(self, default_tenant_id: str = None) -> None:
        """Read state.json if present, then make sure the defaults exist."""
        with self.lock:
            if os.path.exists(self.path):
                with open(self.path, "rb") as fh:
                    self.doc = json.load(fh)
            else:
                self.doc = {"schema": SCHEMA_VERSION, "tenants": {}, "identities": {}, "vaults": {}}
            changed = self._ensure_defaults(default_tenant_id)
            if changed or not os.path.exists(self.path):
                self.save()

    def save(self) -> None:
        with self.lock:
            if self._batch_depth:
                self._dirty = True
                return
            atomic_write(self.path, json_bytes(self.doc))

    @contextlib.contextmanager
    def batch(self):
        """Many changes, one write at the end: every save() rewrites the whole document, so
        N changes each saved cost O(N^2) (a thousand keys: seconds)."""
        with self.lock:
            self._batch_depth += 1
            try:
                yield
            finally:
                self._batch_depth -= 1
                if not self._batch_depth and self._dirty:
                    self._dirty = False
                    self.save()

    def _ensure_defaults(self, default_tenant_id) -> bool:
        changed = False
        if not self.doc.get("default_tenant"):
            tenant = self._new_tenant("emulator", default_tenant_id or new_uuid())
            self.doc["default_tenant"] = tenant["id"]
            changed = True
        if not self.doc.get("signing_key"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode("ascii")
            # Entra key ids look like base64 thumbprints; any stable string works.
            self.doc["signing_key"] = {"kid": new_uuid().replace("-", "")[:27], "pem": pem}
            changed = True
        if not self.doc.get("backup_key"):
            # Protects key backups (POST /keys/{name}/backup) like the service's own wrapping.
            self.doc["backup_key"] = os.urandom(32).hex()
            changed = True
        return changed

    # ---- tenants -------------------------------------------------------------

    def _new_tenant(self, name: str, tenant_id: str) -> dict:
        tenant = {"id": tenant_id.lower(), "name": name, "domain": f"{name}.onmicrosoft.com"}
        self.doc["tenants"][tenant["id"]] = tenant
        return tenant

    def add_tenant(self, name: str, tenant_id: str = None) -> dict:
        with self.lock:
            tenant_id = (tenant_id or new_uuid()).lower()
            if tenant_id in self.doc["tenants"] or self.find_tenant(name):
                raise StateError(f"tenant '{name}' / '{tenant_id}' already exists", 409)
            tenant = self._new_tenant(name, tenant_id)
            self.save()
            return dict(tenant)

    def default_tenant(self) -> dict:
        return self.doc["tenants"][self.doc["default_tenant"]]

    def find_tenant(self, ref: str):
        """A tenant by id, name or domain, as Entra accepts both ids and domains."""
        if not ref:
            return None
        ref = ref.lower()
        with self.lock:
            if ref in self.doc["tenants"]:
                return self.doc["tenants"][ref]
            for tenant in self.doc["tenants"].values():
                if ref in (tenant["name"].lower(), tenant["domain"].lower()):
                    return tenant
        return None

    def resolve_tenant(self, ref: str = None) -> dict:
        if not ref:
            return self.default_tenant()
        tenant = self.find_tenant(ref)
        if tenant is None:
            raise StateError(f"unknown tenant '{ref}'", 404)
        return tenant

    # ---- identities (app registrations / service principals) ---------------

    def add_identity(self, name: str, client_id: str = None, client_secret: str = None,
                     tenant: str = None, object_id: str = None, kind: str = "app") -> dict:
        with self.lock:
            tenant_rec = self.resolve_tenant(tenant)
            client_id = (client_id or new_uuid()).lower()
            if client_id in self.doc["identities"]:
                raise StateError(f"identity with client id '{client_id}' already exists", 409)
            ident = {
                "name": name,
                "client_id": client_id,
                "object_id": (object_id or new_uuid()).lower(),
                "tenant_id": tenant_rec["id"],
                # Real secrets look like 40 random characters; uuids are good enough.
                "client_secret": client_secret if client_secret is not None else new_uuid() + new_uuid()[:4],
                # "app" now; "managed" later for IMDS / App Service identities.
                "kind": kind,
            }
            self.doc["identities"][client_id] = ident
            self.save()
            return dict(ident)

    def find_identity(self, ref: str):
        """By client id, object id or name (admin commands accept any of them)."""
        if not ref:
            return None
        ref = ref.lower()
        with self.lock:
            ident = self.doc["identities"].get(ref)
            if ident:
                return ident
            for ident in self.doc["identities"].values():
                if ref in (ident["object_id"], ident["name"].lower()):
                    return ident
        return None

    def require_identity(self, ref: str) -> dict:
        ident = self.find_identity(ref)
        if ident is None:
            raise StateError(f"unknown identity '{ref}'", 404)
        return ident

    def add_certificate(self, identity_ref: str, record: dict) -> dict:
        """Register a certificate (certs.certificate_record) on an app, like keyCredentials."""
        with self.lock:
            ident = self.require_identity(identity_ref)
            registered = ident.setdefault("certificates", [])
            if any(c["thumbprint"] == record["thumbprint"] for c in registered):
                raise StateError(f"certificate {record['thumbprint']} is already registered on "
                                 f"'{ident['name']}'", 409)
            registered.append(record)
            self.save()
            return ident

    def add_trusted_subject(self, identity_ref: str, subject: str, ca_pem: str = None) -> dict:
        with self.lock:
            ident = self.require_identity(identity_ref)
            rule = {"subject": subject, "ca_pem": ca_pem}
            rules = ident.setdefault("trusted_subjects", [])
            if rule not in rules:
                rules.append(rule)
                self.save()
            return ident

    def add_federated_credential(self, identity_ref: str, name: str, issuer: str, subject: str,
                                 audiences: list) -> dict:
        """Graph's federatedIdentityCredential rules: at most 20 per app, unique names, a unique
        issuer + subject pair, exactly one audience (learn.microsoft.com/graph/api/resources/
        federatedidentitycredential; .../workload-identity-federation-considerations)."""
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$", name or ""):
            raise StateError(f"invalid federated credential name '{name}' (3-120 letters, digits, '-', '_')")
        if not subject or not issuer:
            raise StateError("issuer and subject are required")
        if len(audiences) != 1 or not audiences[0]:
            raise StateError("a federated identity credential takes exactly one audience")
        with self.lock:
            ident = self.require_identity(identity_ref)
            records = ident.setdefault("federated_credentials", [])
            if len(records) >= 20:
                raise StateError(f"'{ident['name']}' already has the maximum of 20 federated identity credentials")
            for rec in records:
                if rec["name"].lower() == name.lower():
                    raise StateError(f"a federated identity credential named '{name}' already exists", 409)
                if rec["issuer"] == issuer and rec["subject"] == subject:
                    raise StateError("a federated identity credential with this issuer and subject already exists", 409)
            rec = {"name": name, "issuer": issuer, "subject": subject, "audiences": list(audiences)}
            records.append(rec)
            self.save()
            return dict(rec)

    def scope_role_assignments(self) -> list:
        """Role assignments at subscription, resource-group, account or workspace scope (inherited below)."""
        with self.lock:
            return self.doc.setdefault("role_assignments", [])

    # ---- vaults ---------------------------------------------------------------

    def add_vault(self, name: str, tenant: str = None, location: str = "eastus",
                  kind: str = "vault", soft_delete: bool = True, retention_days: int = 90,
                  purge_protection: bool = False, rbac: bool = False,
                  subscription_id: str = None, resource_group: str = "rg-emulator") -> dict:
        # Azure vault names: 3-24 chars, letters, digits and hyphens, start with a letter.
        if not re.match(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$", name or "") or "--" in name:
            raise StateError(f"invalid vault name '{name}' (3-24 letters, digits, hyphens)")
        if kind not in ("vault", "managedhsm"):
            raise StateError("vault kind must be 'vault' or 'managedhsm'")
        if not 7 <= retention_days <= 90:
            raise StateError("retention days must be between 7 and 90")
        with self.lock:
            tenant_rec = self.resolve_tenant(tenant)
            if name.lower() in self.doc["vaults"]:
                raise StateError(f"vault '{name}' already exists", 409)
            vault = {
                "name": name,
                "kind": kind,
                "tenant_id": tenant_rec["id"],
                "location": location,
                "subscription_id": subscription_id or "00000000-0000-0000-0000-000000000000",
                "resource_group": resource_group,
                "sku": "premium",
                "soft_delete": bool(soft_delete),
                "retention_days": int(retention_days),
                "purge_protection": bool(purge_protection),
                "enable_rbac_authorization": bool(rbac),
                "access_policies": {},
                "role_assignments": [],
                "keys": {},
                "deleted_keys": {},
            }
            if kind == "managedhsm":
                vault["local_role_assignments"] = []   # mhsm_rbac.py; no access policies apply
            self.doc["vaults"][name.lower()] = vault
            self.save()
            return vault

    def get_vault(self, name: str):
        if not name:
            return None
        with self.lock:
            return self.doc["vaults"].get(name.lower())

    def require_vault(self, name: str) -> dict:
        vault = self.get_vault(name)
        if vault is None:
            raise StateError(f"unknown vault '{name}'", 404)
        return vault

    def update_vault(self, name: str, **props) -> dict:
        """Change vault properties that later checks care about (RBAC, purge protection...)."""
        allowed = {"enable_rbac_authorization", "purge_protection", "soft_delete",
                   "retention_days", "location"}
        with self.lock:
            vault = self.require_vault(name)
            for key, value in props.items():
                if value is None:
                    continue
                if key not in allowed:
                    raise StateError(f"vault property '{key}' cannot be changed")
                if key == "purge_protection" and vault["purge_protection"] and not value:
                    # Azure refuses to turn purge protection off once on.
                    raise StateError("purge protection cannot be disabled once enabled", 409)
                vault[key] = value
            self.save()
            return vault

    def set_access_policy(self, vault_name: str, identity_ref: str, permissions) -> dict:
        """Replace one identity's key permissions; an empty list removes the policy."""
        with self.lock:
            vault = self.require_vault(vault_name)
            ident = self.find_identity(identity_ref)
            # An unknown object id is allowed: Azure stores policies for any object id.
            object_id = ident["object_id"] if ident else identity_ref.lower()
            perms = canonical_permissions(permissions)
            if perms:
                vault["access_policies"][object_id] = {"keys": perms}
            else:
                vault["access_policies"].pop(object_id, None)
            self.save()
            return {"vault": vault["name"], "object_id": object_id, "keys": perms}

    def add_role_assignment(self, vault_name: str, identity_ref: str,
                            role_definition_id: str, scope: str) -> dict:
        with self.lock:
            vault = self.require_vault(vault_name)
            ident = self.find_identity(identity_ref)
            principal = ident["object_id"] if ident else identity_ref.lower()
            assignment = {
                "id": new_uuid(),
                "principal_id": principal,
                "role_definition_id": role_definition_id,
                "scope": scope,
            }
            vault["role_assignments"].append(assignment)
            self.save()
            return assignment

    def remove_role_assignment(self, vault_name: str, assignment_id: str) -> None:
        with self.lock:
            vault = self.require_vault(vault_name)
            before = len(vault["role_assignments"])
            vault["role_assignments"] = [a for a in vault["role_assignments"] if a["id"] != assignment_id]
            if len(vault["role_assignments"]) == before:
                raise StateError(f"no role assignment '{assignment_id}'", 404)
            self.save()


def vault_resource_id(vault: dict) -> str:
    """The ARM id of a vault: the scope role assignments are made at."""
    provider = "managedHSMs" if vault["kind"] == "managedhsm" else "vaults"
    return (f"/subscriptions/{vault['subscription_id']}/resourceGroups/{vault['resource_group']}"
            f"/providers/Microsoft.KeyVault/{provider}/{vault['name']}")
