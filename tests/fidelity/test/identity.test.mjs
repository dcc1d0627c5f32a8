// @azure/identity credentials against the emulator's Entra ID: tokens are
// issued with the claims Key Vault checks, cached like real ones, and Entra's
// refusals reach the caller with their AADSTS codes. Secrets, certificates
// (registered, or subject name + issuer with the chain sent), federated tokens
// (workload identity) and IMDS here; the App Service endpoint has a file of its
// own (managed-identity-appservice.test.mjs), because MSAL Node keeps the first
// managed-identity source it finds for the rest of the process.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";

import {
  ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, EnvironmentCredential,
  ManagedIdentityCredential, WorkloadIdentityCredential,
} from "@azure/identity";

import {
  admin,
  authorityHost,
  credentialFor,
  emulator,
  jwtClaims,
  keyClientFor,
  newIdentity,
  tenantId,
  unique,
  vaultName,
} from "../lib/fidelity.mjs";

const VAULT_SCOPE = "https://vault.azure.net/.default";

let ident;

before(async () => {
  ident = await newIdentity("identity", ["get", "list", "create"]);
});

/** Runs fn with environment variables set, restoring them afterwards. */
async function withEnv(vars, fn) {
  const saved = {};
  for (const [name, value] of Object.entries(vars)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  try {
    return await fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  }
}

describe("ClientSecretCredential", () => {
  it("gets a Key Vault token whose claims name the app, its tenant and the vault audience", async () => {
    const before = Date.now();
    const token = await credentialFor(ident).getToken(VAULT_SCOPE);
    assert.equal(token.tokenType, "Bearer");
    const claims = jwtClaims(token.token);
    assert.equal(claims.aud, "https://vault.azure.net");
    assert.equal(claims.tid, tenantId);
    assert.equal(claims.iss, `https://sts.windows.net/${tenantId}/`);
    assert.equal(claims.appid, ident.client_id);
    assert.equal(claims.oid, ident.object_id);
    assert.equal(claims.sub, ident.object_id);
    // expires_in (3599 s) becomes expiresOnTimestamp; the JWT's exp agrees.
    assert.ok(Math.abs(token.expiresOnTimestamp - claims.exp * 1000) <= 5000,
      `expiresOnTimestamp ${token.expiresOnTimestamp} vs exp ${claims.exp}`);
    assert.ok(token.expiresOnTimestamp - before > 3500 * 1000, "about an hour");
  });

  it("gets an Azure Resource Manager token for https://management.azure.com/.default", async () => {
    const token = await credentialFor(ident).getToken("https://management.azure.com/.default");
    assert.equal(jwtClaims(token.token).aud, "https://management.azure.com");
  });

  it("serves a second request for the same scope from its cache (the same token)", async () => {
    const credential = credentialFor(ident);
    const first = await credential.getToken(VAULT_SCOPE);
    const second = await credential.getToken(VAULT_SCOPE);
    // The emulator issues a new, different JWT on every request.
    assert.equal(second.token, first.token);
  });

  it("accepts the tenant's domain name (NAME.onmicrosoft.com) instead of its id", async () => {
    const credential = new ClientSecretCredential("emulator.onmicrosoft.com", ident.client_id, ident.client_secret,
      { authorityHost, disableInstanceDiscovery: true });
    const token = await credential.getToken(VAULT_SCOPE);
    assert.equal(jwtClaims(token.token).tid, tenantId);
  });

  it("a wrong client secret fails with Entra's invalid_client / AADSTS7000215", async () => {
    const credential = credentialFor({ ...ident, client_secret: "not-the-secret" });
    await assert.rejects(credential.getToken(VAULT_SCOPE), (err) => {
      // identity 4.13 reports Entra's answers (MSAL ServerError) as AuthenticationRequiredError.
      assert.equal(err.name, "AuthenticationRequiredError");
      assert.match(err.message, /invalid_client/);
      assert.match(err.message, /AADSTS7000215: Invalid client secret provided/);
      return true;
    });
  });

  it("an unknown client id fails with unauthorized_client / AADSTS700016", async () => {
    const credential = credentialFor({ ...ident, client_id: "00000000-1111-2222-3333-444444444444" });
    await assert.rejects(credential.getToken(VAULT_SCOPE), (err) => {
      assert.match(err.message, /unauthorized_client/);
      assert.match(err.message, /AADSTS700016/);
      return true;
    });
  });

  it("a scope for an unknown resource fails with invalid_resource / AADSTS500011", async () => {
    await assert.rejects(credentialFor(ident).getToken("https://nothing.example.com/.default"), (err) => {
      assert.match(err.message, /invalid_resource/);
      assert.match(err.message, /AADSTS500011/);
      return true;
    });
  });

  it("an unknown tenant fails authority discovery, and the credential reports itself unavailable", async () => {
    const credential = credentialFor({ ...ident, tenant_id: "00000000-9999-8888-7777-666666666666" });
    await assert.rejects(credential.getToken(VAULT_SCOPE), (err) => {
      assert.equal(err.name, "CredentialUnavailableError");
      assert.match(err.message, /endpoints_resolution_error/);
      return true;
    });
  });
});

describe("Environment-driven credentials", () => {
  const envFor = (id) => ({
    AZURE_TENANT_ID: id.tenant_id,
    AZURE_CLIENT_ID: id.client_id,
    AZURE_CLIENT_SECRET: id.client_secret,
    AZURE_AUTHORITY_HOST: authorityHost,
  });

  it("EnvironmentCredential reads AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_AUTHORITY_HOST", async () => {
    await withEnv(envFor(ident), async () => {
      const token = await new EnvironmentCredential({ disableInstanceDiscovery: true }).getToken(VAULT_SCOPE);
      assert.equal(jwtClaims(token.token).appid, ident.client_id);
    });
  });

  it("DefaultAzureCredential with AZURE_TOKEN_CREDENTIALS=EnvironmentCredential authenticates a KeyClient", async () => {
    // AZURE_TOKEN_CREDENTIALS keeps the chain to the environment credential,
    // so nothing probes IMDS (169.254.169.254) or developer tools.
    await withEnv({ ...envFor(ident), AZURE_TOKEN_CREDENTIALS: "EnvironmentCredential" }, async () => {
      const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
      const client = keyClientFor(credential);
      const name = unique("dac");
      const created = await client.createEcKey(name);
      assert.equal((await client.getKey(name)).id, created.id);
    });
  });
});

/** Options every credential pointed at the emulated Entra ID gets (see credentialFor). */
const ENTRA = { authorityHost, disableInstanceDiscovery: true };

/** Asserts the credential refuses with Entra's `error` and AADSTS `code` in its message. */
async function assertEntraRefusal(credential, error, code, text) {
  await assert.rejects(credential.getToken(VAULT_SCOPE), (err) => {
    // identity 4.13 reports Entra's answers (MSAL ServerError) as AuthenticationRequiredError.
    assert.equal(err.name, "AuthenticationRequiredError", err.message);
    assert.match(err.message, new RegExp(error));
    assert.match(err.message, new RegExp(`AADSTS${code}:`));
    if (text) {
      assert.ok(err.message.includes(text), `"${text}" not in: ${err.message}`);
    }
    return true;
  });
}

/** Creates a key with the credential and reads it back: the token works on the vault. */
async function proveOnVault(credential, prefix) {
  const client = keyClientFor(credential);
  const name = unique(prefix);
  const created = await client.createEcKey(name);
  assert.equal((await client.getKey(name)).id, created.id);
}

/** A file in the suite's work directory. */
function workFile(prefix, contents) {
  const path = join(process.env.FIDELITY_WORK_DIR, unique(prefix));
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

describe("ClientCertificateCredential", () => {
  it("signs an assertion with a registered certificate (PEM with the key) and gets a token for the vault", async () => {
    const app = await newIdentity("cert", ["get", "create"]);
    // A new self-signed certificate registered on the app; the emulator returns its key once.
    const cert = await admin("POST", `/identities/${app.client_id}/certificates`, { generate: true });
    const credential = new ClientCertificateCredential(tenantId, app.client_id,
      { certificate: cert.certificate + cert.private_key }, ENTRA);
    const token = await credential.getToken(VAULT_SCOPE);
    const claims = jwtClaims(token.token);
    assert.equal(claims.appid, app.client_id);
    assert.equal(claims.tid, tenantId);
    assert.equal(claims.aud, "https://vault.azure.net");
    await proveOnVault(credential, "cert");
  });

  it("reads the PEM from certificatePath", async () => {
    const app = await newIdentity("certpath");
    const cert = await admin("POST", `/identities/${app.client_id}/certificates`, { generate: true });
    const path = workFile("cert.pem", cert.certificate + cert.private_key);
    const token = await new ClientCertificateCredential(tenantId, app.client_id, path, ENTRA).getToken(VAULT_SCOPE);
    assert.equal(jwtClaims(token.token).appid, app.client_id);
  });

  it("with sendCertificateChain, a certificate from a trusted CA for a trusted subject (registered nowhere) works", async () => {
    const app = await newIdentity("sni", ["get", "create"]);
    const subject = `CN=${unique("sni")}.contoso.com`;
    await admin("POST", `/identities/${app.client_id}/trusted-subjects`, { subject });
    // Issued by the emulator's test CA; chain = leaf + CA, the order sendCertificateChain sends as x5c.
    const issued = await admin("POST", "/certificates", { subject });
    const pem = issued.chain + issued.private_key;
    const credential = new ClientCertificateCredential(tenantId, app.client_id, { certificate: pem },
      { ...ENTRA, sendCertificateChain: true });
    const token = await credential.getToken(VAULT_SCOPE);
    assert.equal(jwtClaims(token.token).appid, app.client_id);
    await proveOnVault(credential, "sni");
    // Without the chain in the assertion, the certificate is just an unregistered one.
    const withoutChain = new ClientCertificateCredential(tenantId, app.client_id, { certificate: pem }, ENTRA);
    await assertEntraRefusal(withoutChain, "invalid_client", 700027,
      `[Reason - The key was not found., Thumbprint of key used by client: '${issued.thumbprint_sha256}'`);
  });

  it("an unregistered certificate fails with invalid_client / AADSTS700027", async () => {
    const app = await newIdentity("certbad");
    const stranger = await admin("POST", "/certificates", { subject: "CN=stranger" });
    await assertEntraRefusal(
      new ClientCertificateCredential(tenantId, app.client_id, { certificate: stranger.certificate + stranger.private_key }, ENTRA),
      "invalid_client", 700027,
      "The certificate with identifier used to sign the client assertion is not registered on application.");
  });
});

describe("WorkloadIdentityCredential", () => {
  const SUBJECT = "system:serviceaccount:fidelity:worker";
  let app;

  before(async () => {
    app = await newIdentity("workload", ["get", "create"]);
    await admin("POST", `/identities/${app.client_id}/federated-credentials`, { subject: SUBJECT });
  });

  /** A credential reading a token file written from `issue-federated-token` with `options`. */
  async function workloadCredential(options) {
    const federated = await admin("POST", "/federated-tokens", options);
    const tokenFilePath = workFile("federated-token", federated.token);
    return new WorkloadIdentityCredential({ tenantId, clientId: app.client_id, tokenFilePath, ...ENTRA });
  }

  it("exchanges the federated token file for a vault token", async () => {
    const credential = await workloadCredential({ subject: SUBJECT });
    const claims = jwtClaims((await credential.getToken(VAULT_SCOPE)).token);
    assert.equal(claims.appid, app.client_id);
    assert.equal(claims.oid, app.object_id);
    assert.equal(claims.aud, "https://vault.azure.net");
    await proveOnVault(credential, "workload");
  });

  it("a subject no federated credential names fails with AADSTS700213", async () => {
    await assertEntraRefusal(await workloadCredential({ subject: "system:serviceaccount:fidelity:other" }),
      "invalid_client", 700213,
      "No matching federated identity record found for presented assertion subject 'system:serviceaccount:fidelity:other'.");
  });

  it("a token of an untrusted issuer fails with AADSTS700211", async () => {
    await assertEntraRefusal(await workloadCredential({ subject: SUBJECT, issuer: "https://untrusted.example/" }),
      "invalid_client", 700211, "presented assertion issuer 'https://untrusted.example/'");
  });

  it("a wrong audience fails with AADSTS70021 naming issuer, subject and audience", async () => {
    await assertEntraRefusal(await workloadCredential({ subject: SUBJECT, audience: "api://wrong" }),
      "invalid_request", 70021,
      `Assertion Issuer: 'https://oidc.azkv-emulator.test/'. Assertion Subject: '${SUBJECT}'. Assertion Audience: 'api://wrong'.`);
  });

  it("an expired federated token fails with AADSTS700024", async () => {
    await assertEntraRefusal(await workloadCredential({ subject: SUBJECT, lifetime: -600 }),
      "invalid_client", 700024, "Client assertion is not within its valid time range.");
  });
});

describe("ManagedIdentityCredential (IMDS)", () => {
  // AZURE_POD_IDENTITY_AUTHORITY_HOST is the documented override of the IMDS
  // address (http://169.254.169.254); here it names the emulator.
  const imdsEnv = () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: `https://localhost:${emulator.port}` });

  it("gets a token for the system-assigned identity of a Foundry account and uses it on the vault", async () => {
    const account = await admin("POST", "/accounts", { name: unique("mi-account"), identity: "system" });
    const principal = account.identity.principalId;
    await admin("PUT", `/vaults/${vaultName}/access-policies/${principal}`, { keys: ["get", "list", "create"] });
    // This "machine" runs as that identity (what IMDS answers without a client id).
    await admin("PUT", "/imds", { identity: principal });
    await withEnv(imdsEnv(), async () => {
      const credential = new ManagedIdentityCredential();
      const token = await credential.getToken(VAULT_SCOPE);
      const claims = jwtClaims(token.token);
      assert.equal(claims.oid, principal);
      assert.equal(claims.aud, "https://vault.azure.net");
      assert.equal(claims.tid, tenantId);
      const client = keyClientFor(credential);
      const name = unique("mi");
      const created = await client.createRsaKey(name);
      assert.equal((await client.getKey(name)).id, created.id);
    });
  });

  it("gets a token for a user-assigned identity chosen by client id", async () => {
    const mi = await admin("POST", "/identities", { name: unique("uami"), managed: true });
    await withEnv(imdsEnv(), async () => {
      const credential = new ManagedIdentityCredential({ clientId: mi.client_id });
      const token = await credential.getToken("https://management.azure.com/.default");
      const claims = jwtClaims(token.token);
      assert.equal(claims.appid, mi.client_id);
      assert.equal(claims.oid, mi.object_id);
    });
  });
});
