"""Wire shapes of keys (KeyBundle, KeyItem, DeletedKeyBundle...), member for member
and in the order the real service writes them (see tests/recordings).

Managed HSM answers with members sorted alphabetically and always states
`exportable`; Key Vault keeps its own order, states `exportable` from
api-version 7.4 (before that only when set) and `hsmPlatform` from 7.5.
"""

from . import keycrypto


def recovery(vault: dict):
    """(recoveryLevel, recoverableDays) implied by the vault's soft-delete settings."""
    if not vault["soft_delete"]:
        return "Purgeable", 0
    prefix = "Recoverable" if vault["retention_days"] == 90 else "CustomizedRecoverable"
    level = prefix if vault["purge_protection"] else prefix + "+Purgeable"
    return level, vault["retention_days"]


def _sorted(obj):
    if isinstance(obj, dict):
        return {k: _sorted(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted(v) for v in obj]
    return obj


def finish(vault: dict, obj: dict) -> dict:
    return _sorted(obj) if vault["kind"] == "managedhsm" else obj


def _api_level(api):
    """Orders api-versions: "7.4" -> (7, 4), "7.6-preview.2" -> (7, 6),
    "2025-07-01" -> (2025, 7, 1) (date versions came after 7.6); None (the
    admin API) counts as the newest."""
    if api is None:
        return (9999,)
    parts = api.split("-preview")[0].replace("-", ".").split(".")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return (0,)


def _has_recoverable_days(api):
    """recoverableDays appeared in api-version 7.1; 7.0 answers omit it."""
    return _api_level(api) >= (7, 1)


def _states_exportable(api):
    """Key Vault states `exportable` (false unless set) from api-version 7.4
    (SDK recordings: absent at 7.3, `"exportable":false` at 7.4, 7.5, 7.6)."""
    return _api_level(api) >= (7, 4)


def _states_hsm_platform(api):
    """Key Vault adds `hsmPlatform` from api-version 7.5: "0" for software keys,
    "2" for HSM-protected keys (recordings at 7.5/7.6; `az keyvault key create
    --kty RSA-HSM` output). Managed HSM does not send it."""
    return _api_level(api) >= (7, 5)


def attributes(vault: dict, record: dict, api=None) -> dict:
    attrs = {"enabled": record["enabled"]}
    if record.get("nbf") is not None:
        attrs["nbf"] = record["nbf"]
    if record.get("exp") is not None:
        attrs["exp"] = record["exp"]
    attrs["created"] = record["created"]
    attrs["updated"] = record["updated"]
    level, days = recovery(vault)
    attrs["recoveryLevel"] = level
    if vault["soft_delete"] and _has_recoverable_days(api):
        attrs["recoverableDays"] = days
    if vault["kind"] == "managedhsm":
        attrs["exportable"] = bool(record.get("exportable"))
    else:
        if record.get("exportable") is not None or _states_exportable(api):
            attrs["exportable"] = bool(record.get("exportable"))
        if _states_hsm_platform(api):
            attrs["hsmPlatform"] = "2" if record["kty"].endswith("-HSM") else "0"
    return attrs


def key_id(base: str, entry: dict, record: dict = None) -> str:
    kid = f"{base}/keys/{entry['name']}"
    return f"{kid}/{record['version']}" if record else kid


def jwk(base: str, entry: dict, record: dict) -> dict:
    out = {"kid": key_id(base, entry, record), "kty": record["kty"], "key_ops": list(record["key_ops"])}
    out.update(keycrypto.public_jwk_fields(keycrypto.load_key(record)))
    for name, value in record.get("public_extra", {}).items():
        out.setdefault(name, value)
    return out


def key_bundle(vault: dict, base: str, entry: dict, record: dict, api=None) -> dict:
    bundle = {"key": jwk(base, entry, record), "attributes": attributes(vault, record, api)}
    if record.get("tags"):
        bundle["tags"] = dict(record["tags"])
    if record.get("managed"):
        bundle["managed"] = True
    if record.get("release_policy"):
        bundle["release_policy"] = dict(record["release_policy"])
    return finish(vault, bundle)


def _item(vault, kid, record, api=None) -> dict:
    item = {"kid": kid, "attributes": attributes(vault, record, api)}
    if record.get("tags"):
        item["tags"] = dict(record["tags"])
    if record.get("managed"):
        item["managed"] = True
    return item


def key_item(vault: dict, base: str, entry: dict, api=None) -> dict:
    """A /keys list entry: the versionless kid with the latest version's metadata."""
    return finish(vault, _item(vault, key_id(base, entry), entry["versions"][entry["latest"]], api))


def version_item(vault: dict, base: str, entry: dict, record: dict, api=None) -> dict:
    return finish(vault, _item(vault, key_id(base, entry, record), record, api))


def _deletion(vault, base, deleted) -> dict:
    return {"recoveryId": f"{base}/deletedkeys/{deleted['entry']['name']}",
            "deletedDate": deleted["deleted_date"],
            "scheduledPurgeDate": deleted["scheduled_purge_date"]}


def deleted_bundle(vault: dict, base: str, deleted: dict, api=None) -> dict:
    entry = deleted["entry"]
    out = _deletion(vault, base, deleted)
    out.update(key_bundle(vault, base, entry, entry["versions"][entry["latest"]], api))
    return finish(vault, out)


def deleted_item(vault: dict, base: str, deleted: dict, api=None) -> dict:
    entry = deleted["entry"]
    out = _deletion(vault, base, deleted)
    out.update(_item(vault, key_id(base, entry), entry["versions"][entry["latest"]], api))
    return finish(vault, out)
