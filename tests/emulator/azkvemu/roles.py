"""Role-based access as both of Azure's data-plane models evaluate it: Key
Vault's Azure RBAC (authz.py) and Managed HSM's local RBAC (mhsm_rbac.py).
Each has its own built-in roles, {id: (roleName, dataActions)}, and its own
scopes; an assignment {principal_id, role_definition_id, scope} applies to
its scope and everything below it in both.
"""

import fnmatch

# The data action behind each permission a keys route names, in both models: (Key Vault's,
# below Microsoft.KeyVault/vaults/; Managed HSM's, below Microsoft.KeyVault/managedHsm/,
# built-in-roles.md "Permitted operations"). The permissions are Key Vault's access-policy
# names (`az keyvault set-policy --key-permissions`); "readdeleted" is Managed HSM's own
# action for reading deleted keys, which Key Vault grants with get and list (None there).
DATA_ACTIONS = {
    # permission          Key Vault                       Managed HSM
    "get":               ("keys/read",                    "keys/read/action"),
    "list":              ("keys/read",                    "keys/read/action"),
    "getrotationpolicy": ("keyrotationpolicies/read",     "keys/read/action"),
    "create":            ("keys/create/action",           "keys/create"),
    "import":            ("keys/import/action",           "keys/import/action"),
    "update":            ("keys/update/action",           "keys/write/action"),
    "setrotationpolicy": ("keyrotationpolicies/write",    "keys/write/action"),
    "delete":            ("keys/delete",                  "keys/delete"),
    "backup":            ("keys/backup/action",           "keys/backup/action"),
    "restore":           ("keys/restore/action",          "keys/restore/action"),
    "rotate":            ("keys/rotate/action",           "keys/rotate/action"),
    "release":           ("keys/release/action",          "keys/release/action"),
    "encrypt":           ("keys/encrypt/action",          "keys/encrypt/action"),
    "decrypt":           ("keys/decrypt/action",          "keys/decrypt/action"),
    "wrapKey":           ("keys/wrap/action",             "keys/wrap/action"),
    "unwrapKey":         ("keys/unwrap/action",           "keys/unwrap/action"),
    "sign":              ("keys/sign/action",             "keys/sign/action"),
    "verify":            ("keys/verify/action",           "keys/verify/action"),
    "recover":           ("deletedKeys/recover/action",   "keys/deletedKeys/recover/action"),
    "purge":             ("deletedKeys/delete",           "keys/deletedKeys/delete"),
    "readdeleted":       (None,                           "keys/deletedKeys/read/action"),
}


def find_role(roles: dict, ref: str, aliases=None):
    """A built-in role's id by id, name (case-insensitive) or role-definition id."""
    if not ref:
        return None
    tail = ref.rstrip("/").split("/")[-1].lower()
    if tail in roles:
        return tail
    for role_id, (name, _) in roles.items():
        if name.lower() == ref.lower():
            return role_id
    return (aliases or {}).get(ref.lower())


def covers(scope: str, resource: str) -> bool:
    """Whether an assignment at scope applies to resource (at or below it)."""
    scope, resource = scope.lower().rstrip("/"), resource.lower()
    return resource == scope or resource.startswith(scope + "/")


def grants(assignments, roles: dict, oid: str, action: str, resource: str) -> bool:
    """Whether an assignment of oid at or above resource has a role whose data
    actions match action (wildcards, case-insensitive)."""
    for assignment in assignments:
        if assignment["principal_id"].lower() != oid.lower() or not covers(assignment["scope"], resource):
            continue
        role = roles.get(assignment["role_definition_id"].lower())
        if role and any(fnmatch.fnmatchcase(action.lower(), pat.lower()) for pat in role[1]):
            return True
    return False


def caller(claims) -> str:
    """The caller as the service's 403 texts name it."""
    return f"appid={claims.get('appid')};oid={claims.get('oid')};iss={claims.get('iss')}"
