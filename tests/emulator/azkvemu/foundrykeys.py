"""The data-encryption keys (DEKs) of a Foundry resource (Cognitive Services account),
and what customer-managed keys do to them — envelope encryption as the service does it.

Every account has one 256-bit DEK from the start. Under Microsoft-managed keys it
is kept as is ("platform" key). When the account is bound to a Key Vault key the
DEK is wrapped (RSA-OAEP-256) with the bound key version *as the account's
managed identity*, through the same checks the Key Vault data plane applies
(access policy or RBAC, key enabled and valid, key_ops), and the plain DEK is
dropped: from then on every use unwraps it through the vault.

Rotation, as Microsoft documents it for Foundry (../shared/seeds/
foundry-cmk-reference.txt, "Encryption Key Rotation" and "How to Rotate Encryption
Keys"; foundry-cmk-lab.txt, "Key rotation and management"; MicrosoftDocs/
azure-ai-docs articles/ai-services/openai/encrypt-data-at-rest.md, "Update the key
version" and "Rotate customer-managed keys"):
  - the resource does not follow new key versions by itself: "when the key is
    rotated, you must update the resource to use the new key URI". A binding
    without keyVersion is resolved to the version current when the encryption is
    set, and stays on it until the encryption is set again (a PUT or PATCH);
  - "rotating the key doesn't trigger re-encryption": a rebind to another
    version (or another key of the same vault) makes a fresh DEK, wrapped with
    the new version only, for new data ("the service begins using the new key
    for encryption of newly stored data"), and data written before stays under
    its DEK, wrapped with the old version only ("existing data remains encrypted
    with the previous key"). Disabling or deleting that old version makes that
    data unreadable.
The first binding (Microsoft-managed to customer-managed) wraps the platform DEK
itself, so data written before CMK was enabled reads through the key. Stored in
the account record:

  data_keys: {platform: hex | None,
              wrapped: [{dek_id, vault, key, version, kid, value}],   one per DEK
              current: {dek_id, vault, key, version, kid} | None}   the bound version
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
        """(vault, key name, version) the account's encryption names, resolved now: with no
        keyVersion, the key's current version (called only when the encryption is set)."""
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

    @staticmethod
    def _cmk(rec):
        return (rec.get("encryption") or {}).get("keySource") == "Microsoft.KeyVault"

    def bind(self, rec):
        """The encryption was set (PUT or PATCH): use the key version it names from now on,
        resolving a versionless binding to the version current now. The first binding wraps
        the platform DEK; a rebind to another version makes a fresh DEK for new data and leaves
        the data written before under its own DEK and version (no re-encryption). Binding to
        the version in use changes nothing but must still reach it. Raises KeyInaccessible."""
        dk = self._keys(rec)
        if not self._cmk(rec):
            return
        vault, key, version = self._target(rec)
        cur = dk["current"]
        if cur and (cur["vault"].lower(), cur["key"].lower(), cur["version"]) == (
                vault["name"].lower(), key.lower(), version):
            self._unwrap(rec, self._copy_of(dk, cur), current=True)
            return
        if dk["platform"] is not None:
            dek, dek_id = bytes.fromhex(dk["platform"]), "platform"
        else:
            dek, dek_id = os.urandom(32), new_uuid()
        wrapped = self._vault_op(rec, vault, key, version, "wrapKey", dek, True)
        entry = self._entry(vault, key, version, dek_id, wrapped)
        dk["wrapped"].append(entry)
        dk["current"] = {k: entry[k] for k in ("dek_id", "vault", "key", "version", "kid")}
        dk["platform"] = None   # envelope encryption: the plain DEK is not kept
        self.state.save()

    def _bound_dek(self, rec):
        """The current DEK, unwrapped through the bound version (it must be usable)."""
        dk = self._keys(rec)
        if dk["current"] is None:
            self.bind(rec)
        return self._unwrap(rec, self._copy_of(dk, dk["current"]), current=True)

    def current(self, rec):
        """(dek_id, DEK) for new data: the one the bound version wraps."""
        if not self._cmk(rec):
            return "platform", bytes.fromhex(self._keys(rec)["platform"])
        dek = self._bound_dek(rec)
        return self._keys(rec)["current"]["dek_id"], dek

    def dek(self, rec, dek_id):
        """The DEK data was written under, unwrapped through the one version that wraps it.
        The bound version must be usable too: revoking the active key stops all data."""
        dk = self._keys(rec)
        if dk["platform"] is not None and dek_id == "platform":
            return bytes.fromhex(dk["platform"])
        bound = self._bound_dek(rec)
        if dk["current"]["dek_id"] == dek_id:
            return bound
        for w in dk["wrapped"]:
            if w["dek_id"] == dek_id:
                return self._unwrap(rec, w)
        raise KeyInaccessible("DataKeyNotFound", f"No wrapped copy of data key '{dek_id}' exists.")

    def status(self, rec) -> dict:
        """The admin view: key source, whether the identity can unwrap now, the version in use,
        and which version wraps each DEK with how many files under it."""
        source = (rec.get("encryption") or {}).get("keySource") or "Microsoft.CognitiveServices"
        out = {"keySource": source, "keyAccessible": True, "keyVersionInUse": None, "kid": None, "error": None}
        if source != "Microsoft.KeyVault":
            return out
        try:
            self._bound_dek(rec)
        except KeyInaccessible as err:
            out.update(keyAccessible=False, error={"code": err.reason, "message": err.message})
        dk = self._keys(rec)
        cur = dk["current"]
        if cur:
            out.update(keyVersionInUse=cur["version"], kid=cur["kid"])
        out["wrappedVersions"] = [w["kid"] for w in dk["wrapped"]]
        files = list((rec.get("files") or {}).values())
        out["dataKeys"] = [{"kid": w["kid"], "version": w["version"], "current": w["dek_id"] == (cur or {}).get("dek_id"),
                            "files": sum(1 for f in files if f["dek_id"] == w["dek_id"])} for w in dk["wrapped"]]
        return out
