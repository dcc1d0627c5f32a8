// ManagedIdentityCredential on App Service / Functions / Container Apps: the
// platform sets IDENTITY_ENDPOINT and IDENTITY_HEADER, and the SDK (MSAL Node's
// AppService source, api-version 2019-08-01, header X-IDENTITY-HEADER) asks the
// local token service. Here those two variables name the emulator's endpoint and
// the secret `admin app-service` arranged, exactly as the platform would.
//
// A file of its own: MSAL Node picks the managed-identity source once per process
// (ManagedIdentityClient.identitySource is static) and keeps its endpoint and
// header; identity.test.mjs uses IMDS in its process.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { ManagedIdentityCredential } from "@azure/identity";

import { admin, jwtClaims, keyClientFor, tenantId, unique, vaultName } from "../lib/fidelity.mjs";

const VAULT_SCOPE = "https://vault.azure.net/.default";

let site;      // the app's identity (answered without a selector)
let uami;      // a user-assigned identity, chosen by client id
let endpoint;  // {endpoint, header} as `admin app-service` prints them

before(async () => {
  site = await admin("POST", "/identities", { name: unique("site"), managed: true });
  uami = await admin("POST", "/identities", { name: unique("site-uami"), managed: true });
  await admin("PUT", `/vaults/${vaultName}/access-policies/${site.object_id}`, { keys: ["get", "create"] });
  endpoint = await admin("PUT", "/app-service", { identity: site.client_id });
  // The endpoint is https on localhost (the emulator's CA is trusted through
  // NODE_EXTRA_CA_CERTS); App Service's own is http://localhost:PORT/msi/token.
  process.env.IDENTITY_ENDPOINT = endpoint.endpoint.replace("127.0.0.1", "localhost");
  process.env.IDENTITY_HEADER = endpoint.header;
});

describe("ManagedIdentityCredential (App Service: IDENTITY_ENDPOINT + IDENTITY_HEADER)", () => {
  it("gets a token for the app's identity and uses it on the vault", async () => {
    const credential = new ManagedIdentityCredential();
    const before = Date.now();
    const token = await credential.getToken(VAULT_SCOPE);
    const claims = jwtClaims(token.token);
    assert.equal(claims.oid, site.object_id);
    assert.equal(claims.appid, site.client_id);
    assert.equal(claims.tid, tenantId);
    assert.equal(claims.aud, "https://vault.azure.net");
    // expires_on (a string of epoch seconds) became expiresOnTimestamp: 24 hours.
    // MSAL Node turns it into expires_in against the clock when the answer
    // arrives, then adds that to the clock when the request left
    // (BaseManagedIdentitySource.getServerTokenResponse), so the two differ by
    // the whole seconds that passed in between: a run on CI saw 1 s.
    const drift = claims.exp * 1000 - token.expiresOnTimestamp;
    assert.ok(drift >= 0 && drift <= 2000, `expiresOnTimestamp ${token.expiresOnTimestamp} vs exp ${claims.exp}`);
    assert.ok(token.expiresOnTimestamp - before > 23 * 3600 * 1000);
    // MSAL refreshes a managed-identity token of more than 2 h at half its life.
    assert.ok(Math.abs(token.refreshAfterTimestamp - (before + 12 * 3600 * 1000)) < 60 * 1000,
      `refreshAfterTimestamp ${token.refreshAfterTimestamp}`);
    const client = keyClientFor(credential);
    const name = unique("appservice");
    const created = await client.createRsaKey(name);
    assert.equal((await client.getKey(name)).id, created.id);
  });

  it("gets a token for a user-assigned identity chosen by client id", async () => {
    const token = await new ManagedIdentityCredential({ clientId: uami.client_id })
      .getToken("https://management.azure.com/.default");
    const claims = jwtClaims(token.token);
    assert.equal(claims.appid, uami.client_id);
    assert.equal(claims.aud, "https://management.azure.com");
  });

  it("an identity the app does not have: App Service's 'Unable to load the proper Managed Identity.'", async () => {
    const credential = new ManagedIdentityCredential({ clientId: "00000000-1111-2222-3333-444444444444" });
    await assert.rejects(credential.getToken(VAULT_SCOPE), (err) => {
      assert.equal(err.name, "CredentialUnavailableError", err.message);
      assert.match(err.message, /Unable to load the proper Managed Identity\./);
      return true;
    });
  });

  it("once the platform has rotated the header, the old one is refused (401)", async () => {
    // Runs last: the SDK keeps the header it read at its first request.
    const rotated = await admin("PUT", "/app-service", { identity: site.client_id });
    assert.notEqual(rotated.header, endpoint.header);
    const credential = new ManagedIdentityCredential();
    await assert.rejects(credential.getToken("https://management.azure.com/.default"), (err) => {
      assert.match(err.message, /X-IDENTITY-HEADER/);
      return true;
    });
  });
});
