// Shared set-up of the fidelity scenarios: where the emulator runs, and the
// official clients built exactly as a user builds them. Only three things
// differ from a program talking to Azure:
//   - the vault URL is the emulator's (https://localhost:PORT, which the
//     emulator serves as its --localhost-vault),
//   - the authority host is the emulator's Entra ID,
//   - the emulator's test CA is trusted through NODE_EXTRA_CA_CERTS (set by
//     run.sh before node starts; nothing here touches TLS settings).
// The emulator's admin API (https://127.0.0.1:PORT/_emulator/...) only
// arranges the world: identities, access policies, injected faults.
import assert from "node:assert/strict";
import { createPublicKey, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { isRestError } from "@azure/core-rest-pipeline";
import { ClientSecretCredential } from "@azure/identity";
import { CryptographyClient, KeyClient } from "@azure/keyvault-keys";

const stateDir = process.env.FIDELITY_STATE_DIR;
if (!stateDir) {
  throw new Error("FIDELITY_STATE_DIR is not set: run the suite with tests/fidelity/run.sh");
}
if (!process.env.NODE_EXTRA_CA_CERTS) {
  throw new Error("NODE_EXTRA_CA_CERTS is not set to the emulator's CA: use tests/fidelity/run.sh");
}

/** DIR/emulator.json: {port, pid, ca_file, url, default_tenant, localhost_vault}. */
export const emulator = JSON.parse(readFileSync(join(stateDir, "emulator.json"), "utf8"));
export const vaultName = emulator.localhost_vault;
if (!vaultName) {
  throw new Error("the emulator was started without --localhost-vault");
}
/** What the SDK is pointed at instead of https://NAME.vault.azure.net. */
export const vaultUrl = `https://localhost:${emulator.port}`;
/** What the SDK is pointed at instead of https://login.microsoftonline.com. */
export const authorityHost = `https://localhost:${emulator.port}`;
export const tenantId = emulator.default_tenant;

/** Every key permission of an access policy (what "all" grants). */
export const ALL_KEY_PERMISSIONS = [
  "get", "list", "update", "create", "import", "delete", "recover", "backup", "restore",
  "decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign", "purge", "release",
  "rotate", "getrotationpolicy", "setrotationpolicy",
];

/** Calls the emulator's admin API; returns the parsed JSON answer. */
export async function admin(method, path, body) {
  const res = await fetch(`${emulator.url}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

/** A name no other scenario uses (key names: letters, digits and dashes). */
export function unique(prefix) {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A new app registration (client id + secret) in the default tenant, with an
 * access policy on the vault granting `keyPermissions` (none if omitted). */
export async function newIdentity(prefix, keyPermissions) {
  const ident = await admin("POST", "/identities", { name: unique(prefix) });
  if (keyPermissions) {
    await admin("PUT", `/vaults/${vaultName}/access-policies/${ident.client_id}`, {
      keys: keyPermissions,
    });
  }
  return ident;
}

/** ClientSecretCredential for an identity, as a user builds it for a custom authority. */
export function credentialFor(ident, options = {}) {
  return new ClientSecretCredential(ident.tenant_id, ident.client_id, ident.client_secret, {
    authorityHost,
    // Documented option (AuthorityValidationOptions): do not ask
    // login.microsoftonline.com whether the authority is known; the
    // emulator's host is not, and tests reach nothing but loopback.
    disableInstanceDiscovery: true,
    ...options,
  });
}

/** An azkv-pkcs11 configuration (JSON text) as a user writes one for this vault: its real
 * host name, `credential` as the credential section, the emulator's CA and http.connect_to
 * pointing at the emulator. `vault` adds to the vault's entry (keys, options), `rest` to
 * the top level (log, ...). */
export function moduleConfig(credential, vault, rest = {}) {
  return JSON.stringify({
    vaults: [{ url: `https://${vaultName}.vault.azure.net`, ...vault }],
    credential,
    http: { ca_file: emulator.ca_file, connect_to: `127.0.0.1:${emulator.port}` },
    ...rest,
  }, null, 2);
}

/** The module's client_secret credential section for an identity made by newIdentity. */
export function clientSecretOf(ident) {
  return {
    type: "client_secret",
    tenant_id: ident.tenant_id,
    client_id: ident.client_id,
    client_secret: ident.client_secret,
  };
}

/** Options every Key Vault client gets. */
export const keyVaultClientOptions = {
  // Documented option for vaults outside *.vault.azure.net: the emulator's
  // 401 challenge names resource="https://vault.azure.net", as Azure does,
  // while the client talks to https://localhost:PORT, so the SDK's check that
  // the challenge resource matches the vault's domain must be turned off.
  disableChallengeResourceVerification: true,
};

export function keyClientFor(credential, options = {}) {
  return new KeyClient(vaultUrl, credential, { ...keyVaultClientOptions, ...options });
}

export function cryptographyClientFor(keyOrId, credential, options = {}) {
  return new CryptographyClient(keyOrId, credential, { ...keyVaultClientOptions, ...options });
}

/** Asserts that `promise` rejects with the SDK's RestError for an HTTP answer
 * of `statusCode` whose error code is `code`; `message` (a RegExp) is matched
 * against the error message when given. Returns the error. */
export async function assertRestError(promise, { statusCode, code, message }) {
  let caught;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(isRestError(caught), `expected a RestError, got ${caught?.name}: ${caught?.message}`);
  assert.equal(caught.name, "RestError");
  assert.equal(caught.statusCode, statusCode, `statusCode of: ${caught.message}`);
  assert.equal(caught.code, code, `code of: ${caught.message}`);
  if (message) {
    assert.match(caught.message, message);
  }
  return caught;
}

/** Base64url (no padding) to bytes, and bytes to base64url. */
export function fromB64url(text) {
  return Buffer.from(text, "base64url");
}
export function toB64url(bytes) {
  return Buffer.from(bytes).toString("base64url");
}

/** The claims of a JWT (not verified: the emulator's key is not what is under test). */
export function jwtClaims(token) {
  const [, payload] = token.split(".");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

// Key Vault curve names -> JWK curve names node:crypto understands.
const NODE_CURVES = { "P-256": "P-256", "P-384": "P-384", "P-521": "P-521", "P-256K": "secp256k1" };

/** A node:crypto public KeyObject from the SDK's JsonWebKey (byte-array members). */
export function publicKeyOf(jwk) {
  if (jwk.kty === "RSA" || jwk.kty === "RSA-HSM") {
    return createPublicKey({ key: { kty: "RSA", n: toB64url(jwk.n), e: toB64url(jwk.e) }, format: "jwk" });
  }
  return createPublicKey({
    key: { kty: "EC", crv: NODE_CURVES[jwk.crv], x: toB64url(jwk.x), y: toB64url(jwk.y) },
    format: "jwk",
  });
}
