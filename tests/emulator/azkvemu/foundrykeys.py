"""The data-encryption key (DEK) of a Foundry resource (Cognitive Services account),
and what customer-managed keys do to it — envelope encryption as the service does it.

Every account has one 256-bit DEK from the start. Under Microsoft-managed keys it
is kept as is ("platform" key). When the account is bound to a Key Vault key the
DEK is wrapped (RSA-OAEP-256) with the bound key version *as the account's
managed identity*, through the same checks the Key Vault data plane applies
(access policy or RBAC, key enabled and valid, key_ops), and the plain DEK is
dropped: from then on every use unwraps it through the vault.

Rotation (another version or key of the same vault, or — with no keyVersion —
a new latest version, noticed the next time the account uses its key): the
current DEK is unwrapped and re-wrapped with the new version; if that is no
longer possible a fresh DEK is made. Every wrapped copy is kept, so data
written before a rotation still reads after it. Stored in the account record:

  data_keys: {platform: hex | None,
              wrapped: [{dek_id, vault, key, version, kid, value}],
              current: {dek_id, vault, key, version, kid} | None}
"""

import os

from . import authz, cryptoops, keystore
from .bundles import key_id
from .cmkrules import claims_for, resolve_identity
from .httpmsg import ServiceError
from .util import b64url, b64url_decode, new_uuid, now

ALG = "RSA-OAEP-256"


class KeyInaccessible(Exception):
    """The account cannot use its customer-managed key; `reason` names why
    (AccessDenied, ForbiddenByRbac, KeyDisabled, KeyExpired, KeyNotYetValid,
    KeyOperationForbidden, KeyNotFound, KeyVaultNotFound, MissingIdentity...)."""

    def __init__(self, reason, message, kid=None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.kid = kid


def _vault_base(vault):
    return f"https://{vault['name']}.vault.azure.net"


class FoundryKeys:
    def __init__(self, state):
        self.state = state

    # ---- records ----------------------------------------------------------------------

    @staticmethod
    def _keys(rec):
        dk = rec.setdefault("data_keys", {"platform": None, "wrapped": [], "current": None})
        if dk["platform"] is None and dk["current"] is None and not dk["wrapped"]:
            dk["platform"] = os.urandom(32).hex()
        return dk

    def _identity(self, rec):
        kvp = (rec.get("encryption") or {}).get("keyVaultProperties") or {}
        try:
            return resolve_identity(self.state, rec.get("identity"), kvp.get("identityClientId"))
        except ServiceError as err:
            raise KeyInaccessible(err.code, err.message) from None

    def _vault(self, name):
        vault = self.state.get_vault(name)
        if vault is None:
            raise KeyInaccessible("KeyVaultNotFound", f"The key vault '{name}' no longer exists.")
        return vault

    def _target(self, rec):
        """(vault, key name, version) the account's encryption names now (latest if no keyVersion)."""
        kvp = rec["encryption"]["keyVaultProperties"]
        vault = self._vault(kvp["keyVaultUri"].split("//", 1)[-1].split(".", 1)[0])
        try:
            entry, record = keystore.get_record(vault, kvp["keyName"], kvp.get("keyVersion"))
        except ServiceError as err:
            raise KeyInaccessible("KeyNotFound", err.message) from None
        return vault, entry["name"], record["version"]

    # ---- one operation through the vault, as the identity --------------------------------

    def _vault_op(self, rec, vault, key, version, op, value, current):
        ident = self._identity(rec)
        claims = claims_for(ident, vault)
        try:
            authz.check(vault, claims, op, key, self.state.scope_role_assignments())
            entry, record = keystore.get_record(vault, key, version)
            if current and op == "unwrapKey" and record.get("exp") is not None and now() >= record["exp"]:
                # The key in use has expired: the service treats it as revoked (old versions
                # still unwrap the data written under them, as Key Vault allows).
                raise ServiceError(403, "Forbidden", f"The key version {version} in use has expired.", "KeyExpired")
            out = cryptoops.run(self.state.lock, vault, _vault_base(vault), key, version, op,
                                {"alg": ALG, "value": b64url(value)})
        except ServiceError as err:
            kid = f"{_vault_base(vault)}/keys/{key}/{version}"
            raise KeyInaccessible(err.inner or err.code, err.message, kid) from None
        return b64url_decode(out["value"])

    def _entry(self, vault, key, version, dek_id, wrapped):
        entry = keystore.find_entry(vault, key)
        kid = key_id(_vault_base(vault), entry, {"version": version})
        return {"dek_id": dek_id, "vault": vault["name"], "key": entry["name"], "version": version,
                "kid": kid, "value": b64url(wrapped)}

    @staticmethod
    def _copy_of(dk, ref):
        """The wrapped copy `ref` ({dek_id, kid, ...}) points at."""
        for w in dk["wrapped"]:
            if w["dek_id"] == ref["dek_id"] and w["kid"] == ref["kid"]:
                return w
        raise KeyInaccessible("DataKeyNotFound", f"No copy of data key '{ref['dek_id']}' wrapped by {ref['kid']}.")

    def _unwrap(self, rec, w, current=False):
        vault = self._vault(w["vault"])
        return self._vault_op(rec, vault, w["key"], w["version"], "unwrapKey", b64url_decode(w["value"]), current)

    # ---- public ---------------------------------------------------------------------------

    def ensure_current(self, rec):
        """Make the DEK wrapped with the version the account's encryption names (binding,
        rotation, versionless follow-up). Returns the current DEK (bytes).
        Raises KeyInaccessible."""
        dk = self._keys(rec)
        if (rec.get("encryption") or {}).get("keySource") != "Microsoft.KeyVault":
            return bytes.fromhex(dk["platform"])
        vault, key, version = self._target(rec)
        cur = dk["current"]
        if cur and (cur["vault"].lower(), cur["key"].lower(), cur["version"]) == (
                vault["name"].lower(), key.lower(), version):
            return self._unwrap(rec, self._copy_of(dk, cur), current=True)
        # Binding or rotation: carry the DEK over when it can still be read, else start a new one.
        dek_id = cur["dek_id"] if cur else "platform"
        if dk["platform"] is not None:
            dek = bytes.fromhex(dk["platform"])
        else:
            try:
                dek = self._unwrap(rec, self._copy_of(dk, cur))
            except KeyInaccessible:
                dek, dek_id = os.urandom(32), new_uuid()
        wrapped = self._vault_op(rec, vault, key, version, "wrapKey", dek, True)
        entry = self._entry(vault, key, version, dek_id, wrapped)
        dk["wrapped"].append(entry)
        dk["current"] = {k: entry[k] for k in ("dek_id", "vault", "key", "version", "kid")}
        dk["platform"] = None   # envelope encryption: the plain DEK is not kept
        self.state.save()
        return dek

    def current(self, rec):
        """(dek_id, DEK) for new data."""
        dek = self.ensure_current(rec)
        cur = self._keys(rec)["current"]
        return (cur["dek_id"] if cur else "platform"), dek

    def dek(self, rec, dek_id):
        """The DEK data was written under, unwrapped through any version that holds it
        (the current one first)."""
        dk = self._keys(rec)
        if dk["platform"] is not None and dek_id == "platform":
            return bytes.fromhex(dk["platform"])
        cur = dk["current"]
        if cur is not None:
            self.ensure_current(rec)     # the bound key itself must be usable
            cur = dk["current"]
        copies = [w for w in reversed(dk["wrapped"]) if w["dek_id"] == dek_id]
        copies.sort(key=lambda w: w["kid"] != (cur or {}).get("kid"))
        first = None
        for w in copies:
            try:
                return self._unwrap(rec, w, current=w["kid"] == (cur or {}).get("kid"))
            except KeyInaccessible as err:
                first = first or err
        raise first or KeyInaccessible("DataKeyNotFound", f"No wrapped copy of data key '{dek_id}' exists.")

    def status(self, rec) -> dict:
        """The admin view: key source, whether the identity can unwrap now, the version in use."""
        source = (rec.get("encryption") or {}).get("keySource") or "Microsoft.CognitiveServices"
        out = {"keySource": source, "keyAccessible": True, "keyVersionInUse": None, "kid": None, "error": None}
        if source != "Microsoft.KeyVault":
            return out
        try:
            self.ensure_current(rec)
        except KeyInaccessible as err:
            out.update(keyAccessible=False, error={"code": err.reason, "message": err.message})
        cur = self._keys(rec)["current"]
        if cur:
            out.update(keyVersionInUse=cur["version"], kid=cur["kid"])
        out["wrappedVersions"] = [w["kid"] for w in self._keys(rec)["wrapped"]]
        return out
