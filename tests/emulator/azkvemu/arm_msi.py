"""Microsoft.ManagedIdentity/userAssignedIdentities on the emulated ARM.

  PUT, GET, DELETE .../resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}
  GET (list)       /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.ManagedIdentity/userAssignedIdentities

Shape from @azure/arm-msi 2.2.0 (api-version 2024-11-30; its mappers: Identity is a tracked
resource with read-only properties.tenantId, principalId and clientId; userAssignedIdentities
createOrUpdate answers 200 or 201, delete 200 or 204).

Each identity is a real emulator identity (state.add_identity, kind "managed"): it gets tokens
from the emulated IMDS and Entra ID, and can be granted on keys. A resource that names it in
identity.userAssignedIdentities finds the same identity by name (arm_resources.set_identity).
Its tenant is the caller's (Azure: the subscription's tenant); a managed identity the emulator
already knows by that name (admin add-identity --managed --tenant T) is adopted with its tenant,
which is how tests make an identity of another tenant.
"""

from .arm_resources import not_found
from .httpmsg import Response, bad_request, json_response

UAIS = "Microsoft.ManagedIdentity/userAssignedIdentities"


def user_assigned_identities(state) -> dict:
    """User-assigned identities by lower-case (subscription, resource group, name) path."""
    return state.doc.setdefault("user_assigned_identities", {})


def _key(sub, rg, name):
    return f"{sub}/{rg}/{name}".lower()


class UserAssignedIdentityApi:
    def __init__(self, state):
        self.state = state

    def identity_json(self, rec):
        mi = self.state.find_identity(rec["client_id"]) or {}
        return {"id": (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                       f"/providers/{UAIS}/{rec['name']}"),
                "name": rec["name"], "type": UAIS, "location": rec["location"], "tags": rec.get("tags", {}),
                "properties": {"tenantId": mi.get("tenant_id"), "principalId": mi.get("object_id"),
                               "clientId": rec["client_id"]}}

    def _find(self, sub, rg, name):
        rec = user_assigned_identities(self.state).get(_key(sub, rg, name))
        if rec is None:
            raise not_found(UAIS, name, rg)
        return rec

    def get_identity(self, req, claims, body, sub, rg, name):
        return json_response(200, self.identity_json(self._find(sub, rg, name)))

    def put_identity(self, req, claims, body, sub, rg, name):
        table = user_assigned_identities(self.state)
        rec = table.get(_key(sub, rg, name))
        created = rec is None
        if created:
            if not body.get("location"):
                raise bad_request("LocationRequired", "The location property is required for this definition.")
            mi = self.state.find_identity(name)
            if mi is None or mi.get("kind") != "managed":
                mi = self.state.add_identity(name, tenant=claims.get("tid"), kind="managed")
            rec = {"name": name, "subscription_id": sub, "resource_group": rg, "location": body["location"],
                   "client_id": mi["client_id"], "tags": {}}
        if "tags" in body:
            rec["tags"] = body.get("tags") or {}
        table[_key(sub, rg, name)] = rec
        self.state.save()
        return json_response(201 if created else 200, self.identity_json(rec))

    def delete_identity(self, req, claims, body, sub, rg, name):
        table = user_assigned_identities(self.state)
        rec = table.pop(_key(sub, rg, name), None)
        if rec is None:
            return Response(204)
        # Deleting the resource deletes its service principal: no more tokens or grants.
        self.state.doc["identities"].pop(rec["client_id"], None)
        self.state.save()
        return Response(200)

    def list_identities(self, req, claims, body, sub, rg=None):
        out = [self.identity_json(r) for r in user_assigned_identities(self.state).values()
               if r["subscription_id"].lower() == sub.lower()
               and (rg is None or r["resource_group"].lower() == rg.lower())]
        return json_response(200, {"value": out})
