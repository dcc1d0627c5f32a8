"""Who may do what on a vault: access policies, or Azure RBAC when the vault has
enableRbacAuthorization set — the two permission models of Key Vault. A
Managed HSM has neither: its local RBAC decides (mhsm_rbac.py).

Every data-plane operation names one access-policy permission (the names
`az keyvault set-policy --key-permissions` uses); the RBAC data action for it
comes from roles.DATA_ACTIONS. Denials carry the service's wording because people
debugging a Foundry CMK setup read exactly these messages.
"""

from . import mhsm_rbac, roles
from .httpmsg import ServiceError
from .state import vault_resource_id

_PREFIX = "Microsoft.KeyVault/vaults/"

# Built-in Key Vault data-plane roles (ids are the same in every Azure tenant).
BUILTIN_ROLES = {
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": ("Key Vault Administrator", ["Microsoft.KeyVault/vaults/*"]),
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": ("Key Vault Crypto Officer", [
        "Microsoft.KeyVault/vaults/keys/*", "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        "Microsoft.KeyVault/vaults/deletedKeys/*"]),
    "12338af0-0e69-4776-bea7-57ae8d297424": ("Key Vault Crypto User", [
        "Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/update/action",
        "Microsoft.KeyVault/vaults/keys/backup/action", "Microsoft.KeyVault/vaults/keys/encrypt/action",
        "Microsoft.KeyVault/vaults/keys/decrypt/action", "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action", "Microsoft.KeyVault/vaults/keys/sign/action",
        "Microsoft.KeyVault/vaults/keys/verify/action"]),
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": ("Key Vault Crypto Service Encryption User", [
        "Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action"]),
    "08bbd89e-9f13-488c-ac41-acfcb10c90ab": ("Key Vault Crypto Service Release User", [
        "Microsoft.KeyVault/vaults/keys/release/action"]),
    "21090545-7ca7-4776-b22c-e363652d74d2": ("Key Vault Reader", [
        "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]),
    # General built-in roles: control-plane actions only (arm_authz.ROLE_ACTIONS), no data actions,
    # so an Owner of the subscription still cannot unwrap with a vault's key.
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ("Owner", []),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": ("Contributor", []),
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": ("Reader", []),
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": ("User Access Administrator", []),
    "f25e0fa2-a7c8-4377-a976-54943a77a395": ("Key Vault Contributor", []),
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": ("Cognitive Services Contributor", []),
}


def find_role(ref: str):
    """A built-in role by id, name, or full role-definition resource id."""
    return roles.find_role(BUILTIN_ROLES, ref)


def key_scope(vault, key_name=None) -> str:
    scope = vault_resource_id(vault)
    return scope + (f"/keys/{key_name}" if key_name else "")


def check(vault: dict, claims: dict, permission: str, key_name: str = None, inherited=()) -> None:
    """Raise the service's 403 unless the caller holds `permission` on the vault/key.
    `inherited`: role assignments made above the vault (subscription, resource group).
    A Managed HSM answers from its local role assignments alone: Azure RBAC above it
    and access policies do not reach its data plane."""
    if vault["kind"] == "managedhsm":
        mhsm_rbac.check(vault, claims, permission, key_name)
        return
    oid = (claims.get("oid") or "").lower()
    if vault.get("enable_rbac_authorization"):
        action = _PREFIX + roles.DATA_ACTIONS[permission][0]
        resource = key_scope(vault, key_name)
        assignments = list(vault.get("role_assignments", [])) + list(inherited)
        if roles.grants(assignments, BUILTIN_ROLES, oid, action, resource):
            return
        raise ServiceError(
            403, "Forbidden",
            "Caller is not authorized to perform action on resource.\r\n"
            "If role assignments, deny assignments or role definitions were changed recently, "
            "please observe propagation time.\r\n"
            f"Caller: {roles.caller(claims)}\r\n"
            f"Action: '{action}'\r\n"
            f"Resource: '{resource.lower()}'\r\n"
            "Assignment: (not found)\r\n"
            "DenyAssignmentId: null\r\n"
            "DecisionReason: null \r\n"
            f"Vault: {vault['name']};location={vault['location']}\r\n",
            "ForbiddenByRbac")
    granted = vault.get("access_policies", {}).get(oid, {}).get("keys", [])
    if permission in granted:
        return
    raise ServiceError(
        403, "Forbidden",
        f"The user, group or application '{roles.caller(claims)}' does not have keys {permission} "
        f"permission on key vault '{vault['name']};location={vault['location']}'. For help "
        "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
        "AccessDenied")
