"""What the emulated ARM's resource providers share (arm.py dispatches to them): the
lookup of a resource by subscription, resource group and name with ARM's 404, the request
body as ARM reads it, and a resource's managed identity (the `identity` block)."""

import json
import re

from .httpmsg import ServiceError, bad_request

VAULTS = "Microsoft.KeyVault/vaults"
ACCOUNTS = "Microsoft.CognitiveServices/accounts"
WORKSPACES = "Microsoft.MachineLearningServices/workspaces"


def not_found(rtype, name, rg):
    return ServiceError(404, "ResourceNotFound",
                        f"The Resource '{rtype}/{name}' under resource group '{rg}' was not found. "
                        "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def parse_body(req) -> dict:
    """The request's JSON object ({} when there is no body), or ARM's 400."""
    if not req.body:
        return {}
    try:
        body = json.loads(req.body)
    except ValueError:
        raise bad_request("InvalidRequestContent",
                          "The request content was invalid and could not be deserialized.") from None
    if not isinstance(body, dict):
        raise bad_request("InvalidRequestContent", "The request content must be a JSON object.")
    return body


def accounts(state) -> dict:
    """Cognitive Services accounts by lower-case name."""
    return state.doc.setdefault("accounts", {})


def workspaces(state) -> dict:
    """Machine Learning workspaces by lower-case name."""
    return state.doc.setdefault("workspaces", {})


def find_resource(table, rtype, sub, rg, name):
    """The record of `name` in `table` if it is in that subscription and resource group, else ARM's 404."""
    rec = table.get(name.lower())
    if rec is None or rec["subscription_id"].lower() != sub.lower() or rec["resource_group"].lower() != rg.lower():
        raise not_found(rtype, name, rg)
    return rec


def find_vault(state, sub, rg, name):
    """A Key Vault vault (not a Managed HSM) in that subscription and resource group, else ARM's 404."""
    vault = state.get_vault(name)
    if (vault is None or vault["kind"] != "vault" or vault["subscription_id"].lower() != sub.lower()
            or vault["resource_group"].lower() != rg.lower()):
        raise not_found(VAULTS, name, rg)
    return vault


def vault_by_uri(state, uri):
    """The vault a CMK binding names by its URI (https://NAME.vault.azure.net[/]), or the 400
    KeyVaultNotFound that a Foundry account and a storage account both answer."""
    m = re.match(r"^https://([^./]+)\.vault\.azure\.net/?$", uri, re.I)
    vault = state.get_vault(m.group(1)) if m else None
    if vault is None:
        raise bad_request("KeyVaultNotFound", f"The key vault '{uri}' was not found.")
    return vault


def identity_json(rec):
    """A resource's `identity` block as ARM shows it, or None."""
    ident = rec.get("identity")
    if not ident:
        return None
    out = {"type": ident["type"]}
    if ident.get("principal_id"):
        out["principalId"] = ident["principal_id"]
        out["tenantId"] = ident["tenant_id"]
    if ident.get("user_assigned"):
        out["userAssignedIdentities"] = {rid: {"principalId": v["principal_id"], "clientId": v["client_id"]}
                                         for rid, v in ident["user_assigned"].items()}
    return out


def set_identity(state, rec, identity, tenant_id):
    """Apply an identity block; a system-assigned identity gets a managed-identity principal."""
    if identity is None:
        return
    itype = identity.get("type") or "None"
    types = {t.strip().lower() for t in itype.split(",")}
    cur = rec.get("identity") or {}
    new = {"type": itype}
    if "systemassigned" in types:
        if cur.get("principal_id"):
            new.update(principal_id=cur["principal_id"], tenant_id=cur["tenant_id"],
                       client_id=cur.get("client_id"))
        else:
            mi = state.add_identity(rec["name"], tenant=tenant_id, kind="managed")
            new.update(principal_id=mi["object_id"], tenant_id=mi["tenant_id"], client_id=mi["client_id"])
    if "userassigned" in types:
        ua = {}
        for rid in (identity.get("userAssignedIdentities") or {}):
            uname = rid.rstrip("/").split("/")[-1]
            mi = state.find_identity(uname)
            if mi is None:
                mi = state.add_identity(uname, tenant=tenant_id, kind="managed")
            ua[rid] = {"principal_id": mi["object_id"], "client_id": mi["client_id"]}
        new["user_assigned"] = ua
    rec["identity"] = new if types != {"none"} else None


def api_version(req, supported, rtype):
    """The request's api-version when the resource type has it, else ARM's 400 naming the ones it has."""
    api = req.query.get("api-version")
    if api not in supported:
        raise bad_request("NoRegisteredProviderFound",
                          f"No registered resource provider found for API version '{api}' and type '{rtype}'. "
                          f"The supported api-versions are '{', '.join(supported)}'.")
    return api
