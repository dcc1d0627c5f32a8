"""Keys inside a vault: versions, the latest pointer, soft delete.

Callers hold `state.lock` across a lookup and the change that follows, and
call `state.save()` after changes (done here for the mutating helpers).
Key names are case-insensitive in Key Vault but keep the spelling they were
created with, so entries are indexed by lower-case name and remember `name`.
"""

import copy
import json
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import keycrypto
from .httpmsg import ServiceError
from .util import b64url, b64url_decode, json_bytes, new_version, now

KEY_NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")


def not_found(name: str, version: str = None) -> ServiceError:
    ident = f"{name}/{version}" if version else name
    return ServiceError(
        404, "KeyNotFound",
        f"A key with (name/id) {ident} was not found in this key vault. If you recently deleted "
        "this key you may be able to recover it using the correct recovery command. For help "
        "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")


def deleted_not_found(name: str) -> ServiceError:
    return ServiceError(404, "KeyNotFound", f"Deleted Key not found: {name}")


def check_name(name: str) -> None:
    if not KEY_NAME_RE.match(name or ""):
        raise ServiceError(400, "BadParameter",
                           f"The request URI contains an invalid name: {name}")


def find_entry(vault: dict, name: str):
    return vault["keys"].get(name.lower())


def get_record(vault: dict, name: str, version: str = None):
    """(entry, record) for a version, or the latest version when `version` is empty."""
    entry = find_entry(vault, name)
    if entry is None:
        raise not_found(name, version or None)
    if not version:
        return entry, entry["versions"][entry["latest"]]
    record = entry["versions"].get(version.lower())
    if record is None:
        raise not_found(name, version)
    return entry, record


def refuse_if_deleted(vault: dict, name: str) -> None:
    if name.lower() in vault["deleted_keys"]:
        raise ServiceError(
            409, "Conflict",
            f"Key {name} is currently in a deleted but recoverable state, and its name cannot be "
            "reused; in this state, the key can only be recovered or purged.",
            "ObjectIsDeletedButRecoverable")


def add_version(state, vault: dict, name: str, private_key, kty: str, key_ops, enabled=True,
                nbf=None, exp=None, tags=None, exportable=None, release_policy=None,
                public_extra=None) -> tuple:
    """Store a new version and make it the latest; returns (entry, record)."""
    refuse_if_deleted(vault, name)
    created = now()
    record = {
        "version": new_version(),
        "kty": kty,
        "key_ops": list(key_ops),
        "enabled": bool(enabled),
        "nbf": nbf,
        "exp": exp,
        "created": created,
        "updated": created,
        "tags": dict(tags) if tags else None,
        "exportable": exportable,
        "release_policy": release_policy,
        "managed": False,
        # Public JWK members echoed as sent on import (the service echoes e.g. `crv`).
        "public_extra": dict(public_extra or {}),
    }
    record.update(keycrypto.material(private_key))  # "pem", or "k" for an AES key
    entry = find_entry(vault, name)
    if entry is None:
        entry = {"name": name, "latest": None, "versions": {}, "rotation_policy": None}
        vault["keys"][name.lower()] = entry
    entry["versions"][record["version"]] = record
    entry["latest"] = record["version"]
    state.save()
    return entry, record


def update_record(state, record: dict, key_ops=None, attributes=None, tags=None) -> dict:
    """PATCH semantics: only what the request carries changes."""
    if key_ops is not None:
        record["key_ops"] = list(key_ops)
    for attr in ("enabled", "nbf", "exp"):
        if attributes and attr in attributes:
            record[attr] = attributes[attr]
    if attributes and "exportable" in attributes:
        record["exportable"] = attributes["exportable"]
    if tags is not None:
        record["tags"] = dict(tags) if tags else None
    record["updated"] = now()
    state.save()
    return record


def sorted_entries(vault: dict) -> list:
    # The service lists keys ordered by upper-cased name.
    return [vault["keys"][k] for k in sorted(vault["keys"], key=str.upper)]


def sorted_versions(entry: dict) -> list:
    # ...and versions by their (hex) id, not by creation time.
    return [entry["versions"][v] for v in sorted(entry["versions"])]


# ---- soft delete -------------------------------------------------------------------

def delete_key(state, vault: dict, name: str) -> dict:
    entry = find_entry(vault, name)
    if entry is None:
        raise not_found(name)
    del vault["keys"][name.lower()]
    deleted = {"entry": entry, "deleted_date": now(),
               "scheduled_purge_date": now() + vault["retention_days"] * 86400}
    if vault["soft_delete"]:
        vault["deleted_keys"][name.lower()] = deleted
    state.save()
    return deleted


def get_deleted(vault: dict, name: str) -> dict:
    deleted = vault["deleted_keys"].get(name.lower())
    if deleted is None:
        raise deleted_not_found(name)
    return deleted


def recover_key(state, vault: dict, name: str) -> dict:
    deleted = get_deleted(vault, name)
    del vault["deleted_keys"][name.lower()]
    vault["keys"][name.lower()] = deleted["entry"]
    state.save()
    return deleted["entry"]


def purge_key(state, vault: dict, name: str) -> None:
    get_deleted(vault, name)
    if vault["purge_protection"]:
        raise ServiceError(
            403, "Forbidden",
            f"Operation \"purge\" is not allowed because purge protection is enabled for this vault. "
            f"Key Vault service will automatically purge it after the retention period has passed.\r\n"
            f"Vault: {vault['name']};location={vault['location']}")
    del vault["deleted_keys"][name.lower()]
    state.save()


def sorted_deleted(vault: dict) -> list:
    return [vault["deleted_keys"][k] for k in sorted(vault["deleted_keys"], key=str.upper)]


# ---- backup / restore --------------------------------------------------------------

_BACKUP_AAD = b"azkv-emulator key backup v1"


def backup_blob(state, entry: dict) -> str:
    """All versions of a key, sealed with the emulator's backup key (AES-256-GCM).
    Opaque to clients, as the service's blobs are; restorable into any vault of
    this emulator (the service restricts restores to the same geography)."""
    nonce = os.urandom(12)
    sealed = AESGCM(bytes.fromhex(state.doc["backup_key"])).encrypt(nonce, json_bytes(entry), _BACKUP_AAD)
    return b64url(nonce + sealed)


def restore_blob(state, vault: dict, blob: str) -> dict:
    try:
        raw = b64url_decode(blob)
        entry = json.loads(AESGCM(bytes.fromhex(state.doc["backup_key"])).decrypt(raw[:12], raw[12:], _BACKUP_AAD))
        name = entry["name"]
    except Exception:  # any failure means the blob is not one of ours
        raise ServiceError(400, "BadParameter", "Backup blob contains invalid or corrupt version.") from None
    if find_entry(vault, name) is not None or name.lower() in vault["deleted_keys"]:
        raise ServiceError(409, "Conflict",
                           f"There was a conflict restoring the key '{name}'. A key with the same name "
                           "already exists or is in a deleted but recoverable state.")
    entry = copy.deepcopy(entry)
    vault["keys"][name.lower()] = entry
    state.save()
    return entry
