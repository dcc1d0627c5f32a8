"""What Azure requires before a Foundry resource (Cognitive Services account) or an
ML hub/project workspace may encrypt with a customer-managed key in Key Vault.

Each rule raises a 400 with an ARM error code of its own, so that tools and
tests can tell the causes apart. The codes and texts are the emulator's
(Azure documents the rules, not the wording; see seeds/foundry-cmk-reference.txt):

  KeyVaultSoftDeleteAndPurgeProtectionRequired  soft delete or purge protection off
  KeyVaultRegionMismatch                        vault and resource in different regions
  KeyVaultTenantMismatch                        vault tenant != the identity's tenant
  KeyVaultNetworkAccessDenied                   firewall closed to trusted Azure services and no
                                                approved private endpoint connection
  KeyTypeNotSupported / KeySizeNotSupported     not RSA/RSA-HSM, or not 2048 bits
  KeyDisabled / KeyNotYetValid / KeyExpired     the key version's attributes
  KeyOperationsNotAllowed                       key_ops lack wrapKey or unwrapKey
  KeyVaultCannotBeChanged                       rebinding to a key of another vault
  MissingIdentity / InvalidIdentityClientId     no usable managed identity
  KeyVaultAccessForbidden                       identity lacks get, wrapKey or unwrapKey
"""

from . import authz, keycrypto
from .arm_private_link import approved_connection
from .httpmsg import ServiceError, bad_request
from .util import now

SUPPORTED_KTYS = ("RSA", "RSA-HSM")
SUPPORTED_BITS = 2048


def same_location(a, b) -> bool:
    """'East US' == 'eastus': ARM compares locations without case or spaces."""
    return (a or "").replace(" ", "").lower() == (b or "").replace(" ", "").lower()


def resolve_identity(state, identity, client_id=None, uai_resource_id=None) -> dict:
    """The managed identity that uses the key: the user-assigned one named by
    identityClientId (or by an ML workspace's encryption.identity), else the
    system-assigned one. Returns {object_id, client_id, tenant_id}."""
    identity = identity or {}
    if client_id or uai_resource_id:
        ref = client_id or uai_resource_id.rstrip("/").split("/")[-1]
        mi = state.find_identity(ref)
        assigned = {v["client_id"] for v in (identity.get("user_assigned") or {}).values()}
        if mi is None or (client_id and mi["client_id"] not in assigned):
            raise bad_request("InvalidIdentityClientId",
                              f"The identity '{client_id or uai_resource_id}' is not a user-assigned identity "
                              "of the resource.")
        return {"object_id": mi["object_id"], "client_id": mi["client_id"], "tenant_id": mi["tenant_id"]}
    if identity.get("principal_id"):
        return {"object_id": identity["principal_id"], "client_id": identity.get("client_id"),
                "tenant_id": identity.get("tenant_id")}
    raise bad_request("MissingIdentity", "A customer-managed key needs a managed identity on the resource "
                                         "(identity.type SystemAssigned, or UserAssigned with identityClientId).")


def claims_for(ident, vault) -> dict:
    """Token claims the identity would present to the vault (what authz.check reads)."""
    return {"oid": ident["object_id"], "appid": ident["client_id"], "tid": vault["tenant_id"],
            "iss": f"https://sts.windows.net/{vault['tenant_id']}/"}


def check_vault(vault, location, ident) -> None:
    """Vault protection, region, tenant (ident None: no identity to compare) and firewall."""
    name = vault["name"]
    if not vault.get("soft_delete") or not vault.get("purge_protection"):
        missing = [p for p, on in (("soft delete", vault.get("soft_delete")),
                                   ("purge protection", vault.get("purge_protection"))) if not on]
        raise bad_request("KeyVaultSoftDeleteAndPurgeProtectionRequired",
                          f"The key vault '{name}' must have soft delete and purge protection enabled to hold a "
                          f"customer-managed key; {' and '.join(missing)} is not enabled.")
    if not same_location(vault["location"], location):
        raise bad_request("KeyVaultRegionMismatch",
                          f"The key vault '{name}' is in region '{vault['location']}' but the resource is in "
                          f"'{location}'; the key vault and the resource must be in the same region.")
    if ident is not None and (ident.get("tenant_id") or "").lower() != vault["tenant_id"].lower():
        raise bad_request("KeyVaultTenantMismatch",
                          f"The key vault '{name}' belongs to tenant '{vault['tenant_id']}' but the resource's managed "
                          f"identity belongs to tenant '{ident.get('tenant_id')}'; they must be in the same tenant.")
    acls = vault.get("network_acls") or {}
    closed = (vault.get("public_network_access") or "Enabled").lower() == "disabled" \
        or (acls.get("defaultAction") or "Allow").lower() == "deny"
    bypass = {b.strip().lower() for b in str(acls.get("bypass") or "AzureServices").split(",")}
    # seeds/foundry-cmk-lab.txt, "Key Vault configuration": "Network isolation can be maintained
    # through Private Link or by allowing trusted Microsoft services to reach the vault."
    if closed and "azureservices" not in bypass and not approved_connection(vault):
        raise bad_request("KeyVaultNetworkAccessDenied",
                          f"The key vault '{name}' firewall does not let trusted Microsoft services in "
                          "(publicNetworkAccess Disabled or networkAcls.defaultAction Deny, and networkAcls.bypass "
                          "does not include AzureServices), and it has no approved private endpoint connection.")


def check_key(vault, key_name, version=None, sizes=(SUPPORTED_BITS,)):
    """The key version (the latest if none) suits Foundry: RSA 2048 (Storage: `sizes`), usable,
    wrap/unwrap allowed. Returns (entry, record)."""
    entry = vault["keys"].get((key_name or "").lower())
    record = None
    if entry is not None:
        record = entry["versions"].get((version or entry["latest"]).lower())
    if record is None:
        raise bad_request("KeyNotFound", f"The key '{key_name}' (version '{version or ''}') was not found in key vault "
                                         f"'{vault['name']}'.")
    label = f"'{entry['name']}/{record['version']}'"
    if record["kty"] not in SUPPORTED_KTYS:
        raise bad_request("KeyTypeNotSupported", f"The key {label} is of type {record['kty']}; only RSA and RSA-HSM "
                                                 "keys can be customer-managed keys.")
    bits = keycrypto.load_key(record).key_size
    if bits not in sizes:
        raise bad_request("KeySizeNotSupported",
                          f"The key {label} has {bits} bits; only {'/'.join(map(str, sizes))}-bit RSA keys are "
                          "supported.")
    current = now()
    if not record["enabled"]:
        raise bad_request("KeyDisabled", f"The key {label} is disabled.")
    if record.get("nbf") is not None and current < record["nbf"]:
        raise bad_request("KeyNotYetValid", f"The key {label} is not valid before {record['nbf']} (nbf).")
    if record.get("exp") is not None and current >= record["exp"]:
        raise bad_request("KeyExpired", f"The key {label} expired at {record['exp']} (exp).")
    missing = [op for op in ("wrapKey", "unwrapKey") if op not in record["key_ops"]]
    if missing:
        raise bad_request("KeyOperationsNotAllowed", f"The key {label} does not permit {' and '.join(missing)} "
                                                     "(key_ops); a customer-managed key needs wrapKey and unwrapKey.")
    return entry, record


def check_grant(state, vault, ident, key_name) -> None:
    """The identity holds get, wrapKey and unwrapKey on the key (access policy or RBAC,
    RBAC inherited from subscription and resource group included)."""
    claims = claims_for(ident, vault)
    for permission in ("get", "wrapKey", "unwrapKey"):
        try:
            authz.check(vault, claims, permission, key_name, state.scope_role_assignments())
        except ServiceError as err:
            raise bad_request("KeyVaultAccessForbidden",
                              f"The resource's managed identity cannot use the key '{key_name}' "
                              f"(needs get, wrapKey and unwrapKey): {err.message}") from None


def check_same_vault(current_vault_name, new_vault_name) -> None:
    if current_vault_name and current_vault_name.lower() != new_vault_name.lower():
        raise bad_request("KeyVaultCannotBeChanged",
                          f"The customer-managed key can only be changed to another key or version in the same key "
                          f"vault '{current_vault_name}', not to one in '{new_vault_name}'.")
