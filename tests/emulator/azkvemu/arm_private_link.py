"""A vault's private endpoint connections (Private Link) and its deleted vaults, on the emulated ARM.

Shapes follow the Key Vault management REST spec (Microsoft.KeyVault 2023-07-01, as the JS
client @azure/arm-keyvault 5.0.0 in tests/fidelity reads them):

  GET    .../vaults/{v}/privateEndpointConnections             list {value: [connection]}
  GET    .../vaults/{v}/privateEndpointConnections/{name}      one connection
  PUT    .../vaults/{v}/privateEndpointConnections/{name}      approve / reject: the body's
         properties.privateLinkServiceConnectionState {status, description, actionsRequired}
  DELETE .../vaults/{v}/privateEndpointConnections/{name}      200 with the connection, provisioningState
                                                               Deleting (the spec's example), or 204 when gone
  the vault's GET lists them in properties.privateEndpointConnections as items {id, etag, properties}.

A private endpoint is created from Microsoft.Network (the endpoint's owner asks, the vault's owner
approves), which the emulator does not model: `azkv-emulator admin add-private-endpoint` makes the
connection a new endpoint would make, status Pending unless told otherwise.

Deleted vaults (soft delete; same spec):
  DELETE .../vaults/{v}                                         soft-deletes (200); the vault moves to
                                                               the subscription's deleted vaults
  GET    /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults              list
  GET    /subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/deletedVaults/{v}
  POST   .../locations/{l}/deletedVaults/{v}/purge              202; refused under purge protection
  PUT    .../vaults/{v} with properties.createMode "recover"    brings a deleted vault back (arm_vaults.py)
A PUT of a new vault whose name is held by a deleted vault is Azure's 409 ConflictError
("A vault with the same name already exists in deleted state. You need to either recover or purge
existing key vault."), the message `az keyvault create` shows in that case.
"""

import datetime

from .arm_resources import VAULTS, find_vault, not_found
from .httpmsg import Response, ServiceError, bad_request, json_response
from .state import vault_resource_id
from .util import new_uuid, now_iso

STATUSES = ("Pending", "Approved", "Rejected", "Disconnected")


def _connections(vault) -> dict:
    return vault.setdefault("private_endpoint_connections", {})


def _properties(conn) -> dict:
    return {"privateEndpoint": {"id": conn["private_endpoint_id"]},
            "privateLinkServiceConnectionState": {"status": conn["status"],
                                                  "description": conn.get("description", ""),
                                                  "actionsRequired": "None"},
            "provisioningState": conn.get("provisioning_state", "Succeeded")}


def connection_items(vault) -> list:
    """properties.privateEndpointConnections of the vault's GET (PrivateEndpointConnectionItem)."""
    return [{"id": f"{vault_resource_id(vault)}/privateEndpointConnections/{c['name']}", "etag": c["etag"],
             "properties": _properties(c)} for c in _connections(vault).values()]


def approved_connection(vault) -> bool:
    """Private Link open to the vault: an approved private endpoint connection. Pending, rejected
    and disconnected ones carry no traffic."""
    return any(c["status"] == "Approved" for c in _connections(vault).values())


def add_connection(state, vault, name, endpoint_id=None, status="Pending") -> dict:
    """What Microsoft.Network does when a private endpoint asks for the vault (admin command)."""
    if status not in STATUSES:
        raise bad_request("BadRequest", f"status must be one of {', '.join(STATUSES)}")
    endpoint_id = endpoint_id or (f"/subscriptions/{vault['subscription_id']}/resourceGroups/"
                                  f"{vault['resource_group']}/providers/Microsoft.Network/privateEndpoints/{name}")
    conn = {"name": name, "private_endpoint_id": endpoint_id, "status": status,
            "description": "Requested by the private endpoint's owner", "etag": new_uuid()}
    _connections(vault)[name.lower()] = conn
    state.save()
    return conn


def _deleted(state) -> dict:
    return state.doc.setdefault("deleted_vaults", {})


def deleted_vault(state, name):
    """The soft-deleted vault holding name, if any."""
    return _deleted(state).get((name or "").lower())


def _purge_date(deleted_at, days) -> str:
    when = datetime.datetime.fromisoformat(deleted_at.replace("Z", "+00:00")) + datetime.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class PrivateLinkApi:
    def __init__(self, state):
        self.state = state

    def _connection_json(self, vault, conn):
        return {"id": f"{vault_resource_id(vault)}/privateEndpointConnections/{conn['name']}",
                "name": conn["name"], "type": f"{VAULTS}/privateEndpointConnections",
                "location": vault["location"], "etag": conn["etag"], "properties": _properties(conn)}

    def _find(self, vault, name):
        conn = _connections(vault).get(name.lower())
        if conn is None:
            raise not_found(f"{VAULTS}/privateEndpointConnections", f"{vault['name']}/{name}", vault["resource_group"])
        return conn

    def list_connections(self, req, claims, body, sub, rg, name):
        vault = find_vault(self.state, sub, rg, name)
        return json_response(200, {"value": [self._connection_json(vault, c)
                                              for c in _connections(vault).values()]})

    def get_connection(self, req, claims, body, sub, rg, name, pec):
        vault = find_vault(self.state, sub, rg, name)
        return json_response(200, self._connection_json(vault, self._find(vault, pec)))

    def put_connection(self, req, claims, body, sub, rg, name, pec):
        """The vault owner's answer: approve or reject (the endpoint itself comes from Microsoft.Network)."""
        vault = find_vault(self.state, sub, rg, name)
        conn = self._find(vault, pec)
        state = (body.get("properties") or {}).get("privateLinkServiceConnectionState") or {}
        status = state.get("status")
        if status not in STATUSES:
            raise bad_request("BadRequest", "properties.privateLinkServiceConnectionState.status must be one of "
                                            f"{', '.join(STATUSES)}.")
        conn["status"] = status
        conn["description"] = state.get("description") or ""
        conn["etag"] = new_uuid()
        self.state.save()
        return json_response(200, self._connection_json(vault, conn))

    def delete_connection(self, req, claims, body, sub, rg, name, pec):
        vault = find_vault(self.state, sub, rg, name)
        conn = _connections(vault).pop(pec.lower(), None)
        if conn is None:
            return Response(204, b"")
        self.state.save()
        return json_response(200, self._connection_json(vault, dict(conn, provisioning_state="Deleting")))

    # ---- deleted vaults ----------------------------------------------------------------

    def _deleted_json(self, rec):
        vault = rec["vault"]
        return {"id": (f"/subscriptions/{vault['subscription_id']}/providers/Microsoft.KeyVault/locations/"
                       f"{vault['location']}/deletedVaults/{vault['name']}"),
                "name": vault["name"], "type": "Microsoft.KeyVault/deletedVaults",
                "properties": {"vaultId": vault_resource_id(vault), "location": vault["location"],
                               "deletionDate": rec["deleted_at"],
                               "scheduledPurgeDate": _purge_date(rec["deleted_at"], vault["retention_days"]),
                               "tags": vault.get("tags", {}),
                               "purgeProtectionEnabled": bool(vault["purge_protection"])}}

    def delete_vault(self, req, claims, body, sub, rg, name):
        if self.state.get_vault(name) is None:
            return Response(204, b"")
        vault = find_vault(self.state, sub, rg, name)
        del self.state.doc["vaults"][name.lower()]
        if vault.get("soft_delete", True):
            _deleted(self.state)[name.lower()] = {"vault": vault, "deleted_at": now_iso()}
        self.state.save()
        return Response(200, b"")

    def list_deleted(self, req, claims, body, sub):
        return json_response(200, {"value": [self._deleted_json(r) for r in _deleted(self.state).values()
                                             if r["vault"]["subscription_id"].lower() == sub.lower()]})

    def _find_deleted(self, sub, loc, name):
        rec = deleted_vault(self.state, name)
        if (rec is None or rec["vault"]["subscription_id"].lower() != sub.lower()
                or rec["vault"]["location"].replace(" ", "").lower() != loc.replace(" ", "").lower()):
            raise ServiceError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.KeyVault/deletedVaults/{name}' was not found.")
        return rec

    def get_deleted(self, req, claims, body, sub, loc, name):
        return json_response(200, self._deleted_json(self._find_deleted(sub, loc, name)))

    def purge_deleted(self, req, claims, body, sub, loc, name):
        rec = self._find_deleted(sub, loc, name)
        if rec["vault"]["purge_protection"]:
            raise bad_request("BadRequest", f"The vault '{name}' has purge protection enabled; it cannot be purged "
                                            "before its scheduled purge date.")
        del _deleted(self.state)[name.lower()]
        self.state.save()
        return Response(202, b"")


def refuse_or_recover(state, name, props):
    """arm_vaults.put_vault's first step for a name no live vault holds: a deleted vault of that
    name is brought back by createMode recover, else it blocks the name (409)."""
    rec = deleted_vault(state, name)
    if rec is None:
        return None
    if (props.get("createMode") or "").lower() == "recover":
        del _deleted(state)[name.lower()]
        state.doc["vaults"][name.lower()] = rec["vault"]
        return rec["vault"]
    raise ServiceError(409, "ConflictError",
                       "A vault with the same name already exists in deleted state. You need to either recover "
                       "or purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid="
                       "2149745 for more information on soft delete.")
