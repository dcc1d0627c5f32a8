// Shared set-up of the ARM scenarios: the emulated Resource Manager as an ARM
// client reaches it. `endpoint` is the emulator and the token scope stays ARM's
// (`credentialScopes` for the AutoRest packages, `credentials.scopes` for the
// TypeSpec-generated @azure/arm-keyvault 5, whose default scope is derived from
// the endpoint). Both are the packages' documented client options.
import assert from "node:assert/strict";

import {
  admin, credentialFor, cryptographyClientFor, emulator, keyClientFor, newIdentity, unique, vaultName,
} from "./fidelity.mjs";

export const SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
export const RESOURCE_GROUP = "rg-emulator";
export const ARM_SCOPE = "https://management.azure.com/.default";
export const CSEU = "e147488a-f6f5-4113-8e2d-b22465e65bf6"; // Key Vault Crypto Service Encryption User
export const READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
export const vaultId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
export const armOptions = {
  endpoint: `https://localhost:${emulator.port}`,
  credentialScopes: [ARM_SCOPE],
  credentials: { scopes: [ARM_SCOPE] },
};
/** Long-running operations poll quickly (documented poller option). */
export const POLL = { updateIntervalInMs: 20 };

/** An identity that administers the resources (any ARM token may, unless ARM RBAC is on). */
export async function armCredential() {
  return credentialFor(await newIdentity("arm-admin"));
}

/** A key created by a full-access identity through the data plane. */
export async function newKey(prefix) {
  const owner = await newIdentity(`${prefix}-owner`, ["all"]);
  return keyClientFor(credentialFor(owner)).createRsaKey(unique(prefix), { keySize: 2048 });
}

/** Wraps and unwraps with `key` as `ident`: proves a grant works on the data plane. */
export async function roundTrip(key, ident) {
  const crypto = cryptographyClientFor(key.id, credentialFor(ident));
  const dek = Buffer.alloc(32, 7);
  const wrapped = await crypto.wrapKey("RSA-OAEP-256", dek);
  const unwrapped = await crypto.unwrapKey("RSA-OAEP-256", wrapped.result);
  assert.deepEqual(Buffer.from(unwrapped.result), dek);
}

/** Runs `body` with the emulator's control-plane RBAC of ARM callers on, then off again. */
export async function withArmRbac(body) {
  await admin("PUT", "/arm-rbac", { enabled: true });
  try {
    return await body();
  } finally {
    await admin("PUT", "/arm-rbac", { enabled: false });
  }
}
