// Each credential type, cross-checked between @azure/identity and the azkv-pkcs11
// module: the same identity, set up the same way (a registered certificate, a
// federated service-account token, a user-assigned managed identity on IMDS),
// gets a token through the SDK whose claims name that identity, and through the
// module (azkv-envelope with credential.type set) unwraps a key that only that
// identity may unwrap. What the SDK wraps, the module opens.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";

import {
  ClientCertificateCredential, ManagedIdentityCredential, WorkloadIdentityCredential,
} from "@azure/identity";

import {
  ALL_KEY_PERMISSIONS, admin, authorityHost, credentialFor, cryptographyClientFor, emulator,
  jwtClaims, keyClientFor, moduleConfig, newIdentity, tenantId, unique, vaultName,
} from "../lib/fidelity.mjs";

const run = promisify(execFile);
const VAULT_SCOPE = "https://vault.azure.net/.default";
const ENTRA = { authorityHost, disableInstanceDiscovery: true };

let workDir;
let key;      // an RSA-2048 key
let dek;
let wrappedBytes; // dek, wrapped by the SDK with the key (RSA-OAEP-256)
let wrapped;      // ... in a file

/** A file in this suite's work directory. */
function workFile(name, contents) {
  const path = join(workDir, name);
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

/** Unwraps `wrapped` through the module, with `credential` as the configuration's
 * credential section; returns the key in hex. */
async function moduleUnwrap(name, credential, env = {}) {
  const config = workFile(`${name}.json`, moduleConfig(credential, { keys: [key.name] }));
  try {
    const { stdout } = await run(process.env.AZKV_ENVELOPE,
      ["--module", process.env.AZKV_MODULE, "unwrap", "--key", key.name, "--alg", "RSA-OAEP-256",
        "--wrapped", wrapped], {
        // A managed identity no test points at the emulator asks a closed
        // loopback port, never 169.254.169.254.
        env: { ...process.env, AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9", ...env,
          AZKV_PKCS11_CONFIG: config },
      });
    return stdout.trim().toLowerCase();
  } catch (err) {
    throw new Error(`the module (${credential.type}) failed: ${err.stderr}`);
  }
}

/** An identity that may get and unwrap with the key, and nothing else. */
async function grantUnwrap(ident) {
  await admin("PUT", `/vaults/${vaultName}/access-policies/${ident.object_id}`, { keys: ["get", "unwrapKey"] });
}

/** The SDK's token names the identity, and the SDK unwraps with it too. */
async function sdkSide(credential, ident) {
  const claims = jwtClaims((await credential.getToken(VAULT_SCOPE)).token);
  assert.equal(claims.oid, ident.object_id);
  assert.equal(claims.appid, ident.client_id);
  assert.equal(claims.aud, "https://vault.azure.net");
  const result = await cryptographyClientFor(key.id, credential).unwrapKey("RSA-OAEP-256", wrappedBytes);
  assert.equal(Buffer.from(result.result).toString("hex"), dek.toString("hex"));
}

before(async () => {
  workDir = mkdtempSync(join(process.env.FIDELITY_WORK_DIR ?? "/tmp", "credentials-"));
  const owner = credentialFor(await newIdentity("cred-owner", ALL_KEY_PERMISSIONS));
  key = await keyClientFor(owner).createRsaKey(unique("cred-cmk"), { keySize: 2048 });
  dek = randomBytes(32);
  wrappedBytes = (await cryptographyClientFor(key, owner).wrapKey("RSA-OAEP-256", dek)).result;
  wrapped = workFile("wrapped.bin", wrappedBytes);
});

describe("the same identity through the SDK and through the module", () => {
  it("client certificate: ClientCertificateCredential and credential.type client_certificate", async () => {
    const app = await newIdentity("cred-cert");
    await grantUnwrap(app);
    const cert = await admin("POST", `/identities/${app.client_id}/certificates`, { generate: true });
    const pem = workFile("cert.pem", cert.private_key + cert.certificate);
    await sdkSide(new ClientCertificateCredential(tenantId, app.client_id, pem, ENTRA), app);
    const hex = await moduleUnwrap("cert", {
      type: "client_certificate", tenant_id: tenantId, client_id: app.client_id, certificate_file: pem,
    });
    assert.equal(hex, dek.toString("hex"));
  });

  it("workload identity: WorkloadIdentityCredential and the AKS variables with no credential section", async () => {
    const subject = "system:serviceaccount:fidelity:cross-check";
    const app = await newIdentity("cred-wi");
    await grantUnwrap(app);
    await admin("POST", `/identities/${app.client_id}/federated-credentials`, { subject });
    const federated = await admin("POST", "/federated-tokens", { subject });
    const tokenFile = workFile("sa-token", federated.token);
    await sdkSide(new WorkloadIdentityCredential({
      tenantId, clientId: app.client_id, tokenFilePath: tokenFile, ...ENTRA,
    }), app);
    // What the workload identity webhook sets in the pod, read by the default chain.
    const hex = await moduleUnwrap("wi", undefined, {
      AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: app.client_id, AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    });
    assert.equal(hex, dek.toString("hex"));
  });

  it("managed identity (IMDS, user-assigned by client id): ManagedIdentityCredential and credential.type managed_identity", async () => {
    const mi = await admin("POST", "/identities", { name: unique("cred-mi"), managed: true });
    await grantUnwrap(mi);
    const imds = `https://localhost:${emulator.port}`;
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds;
    try {
      await sdkSide(new ManagedIdentityCredential({ clientId: mi.client_id }), mi);
    } finally {
      delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    }
    const hex = await moduleUnwrap("mi", {
      type: "managed_identity", client_id: mi.client_id, imds_endpoint: imds,
    });
    assert.equal(hex, dek.toString("hex"));
  });
});
