// Errors: the emulator's refusals reach the SDK's caller as the RestError the
// real service produces (statusCode, code, message), and throttling (429,
// injected with the emulator's fault rules) drives the SDK's retry policy.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";

import {
  admin,
  ALL_KEY_PERMISSIONS,
  assertRestError,
  credentialFor,
  cryptographyClientFor,
  keyClientFor,
  newIdentity,
  unique,
  vaultName,
} from "../lib/fidelity.mjs";

let full;     // credential with every key permission
let keys;     // KeyClient with it
let rsaKey;   // an RSA key

before(async () => {
  full = credentialFor(await newIdentity("errors", ALL_KEY_PERMISSIONS));
  keys = keyClientFor(full);
  rsaKey = await keys.createRsaKey(unique("errors-rsa"));
});

describe("Errors: 404", () => {
  it("getKey of a key that does not exist is RestError 404 KeyNotFound with the service's text", async () => {
    const name = unique("missing");
    const err = await assertRestError(keys.getKey(name), {
      statusCode: 404,
      code: "KeyNotFound",
      message: new RegExp(`A key with \\(name/id\\) ${name} was not found in this key vault`),
    });
    assert.equal(err.response?.status, 404);
  });

  it("getKey of a version that does not exist is RestError 404 KeyNotFound naming name/version", async () => {
    const version = randomBytes(16).toString("hex");
    await assertRestError(keys.getKey(rsaKey.name, { version }), {
      statusCode: 404,
      code: "KeyNotFound",
      message: new RegExp(`${rsaKey.name}/${version} was not found`),
    });
  });

  it("unwrapKey with a key that does not exist is RestError 404 KeyNotFound", async () => {
    const missing = rsaKey.id.replace(`/keys/${rsaKey.name}/`, `/keys/${unique("gone")}/`);
    // An identity without get, so the SDK goes straight to the vault's unwrapkey.
    const unwrapOnly = credentialFor(await newIdentity("unwrap-only", ["unwrapKey"]));
    await assertRestError(cryptographyClientFor(missing, unwrapOnly).unwrapKey("RSA-OAEP", randomBytes(256)),
      { statusCode: 404, code: "KeyNotFound" });
  });

  it("getDeletedKey of a key that is not deleted is RestError 404 KeyNotFound", async () => {
    await assertRestError(keys.getDeletedKey(rsaKey.name), { statusCode: 404, code: "KeyNotFound" });
  });
});

describe("Errors: 403", () => {
  it("an identity without the create permission gets RestError 403 Forbidden naming the permission", async () => {
    const reader = await newIdentity("reader", ["get", "list"]);
    const client = keyClientFor(credentialFor(reader));
    const err = await assertRestError(client.createRsaKey(unique("denied")), {
      statusCode: 403,
      code: "Forbidden",
      message: new RegExp(`does not have keys create permission on key vault '${vaultName};location=`),
    });
    assert.match(err.message, new RegExp(`appid=${reader.client_id};oid=${reader.object_id}`));
    // ...while what it may do still works.
    assert.equal((await client.getKey(rsaKey.name)).id, rsaKey.id);
  });

  it("an identity with get but without unwrapKey gets RestError 403 Forbidden for unwrapKey", async () => {
    const getter = credentialFor(await newIdentity("getter", ["get"]));
    const wrapped = await cryptographyClientFor(rsaKey, full).wrapKey("RSA-OAEP-256", randomBytes(32));
    await assertRestError(cryptographyClientFor(rsaKey.id, getter).unwrapKey("RSA-OAEP-256", wrapped.result), {
      statusCode: 403,
      code: "Forbidden",
      message: /does not have keys unwrapKey permission/,
    });
  });

  it("an identity with no access at all gets RestError 403 for getKey", async () => {
    const nobody = keyClientFor(credentialFor(await newIdentity("nobody")));
    await assertRestError(nobody.getKey(rsaKey.name), {
      statusCode: 403,
      code: "Forbidden",
      message: /does not have keys get permission/,
    });
  });

  it("a disabled key refuses wrapKey in the vault with RestError 403 Forbidden", async () => {
    const name = unique("disabled");
    const key = await keys.createRsaKey(name, { enabled: false });
    // RSA-OAEP-256 is never done locally by the SDK: this reaches the vault.
    await assertRestError(cryptographyClientFor(key.id, full).wrapKey("RSA-OAEP-256", randomBytes(32)), {
      statusCode: 403,
      code: "Forbidden",
      message: /Operation wrapKey is not allowed on a disabled key/,
    });
  });

  it("an operation missing from the key's key_ops is refused by the vault with RestError 403 (not 400)", async () => {
    const key = await keys.createRsaKey(unique("wrap-only-ops"), { keyOps: ["wrapKey"] });
    // No get permission: the SDK cannot check key_ops itself and asks the vault.
    const unwrapper = credentialFor(await newIdentity("unwrapper", ["unwrapKey"]));
    await assertRestError(cryptographyClientFor(key.id, unwrapper).unwrapKey("RSA-OAEP", randomBytes(256)), {
      statusCode: 403,
      code: "Forbidden",
      message: /Operation unwrapKey is not permitted on this key/,
    });
  });
});

describe("Errors: 400 and 409", () => {
  it("unwrapping bytes that were not wrapped with the key is RestError 400 BadParameter", async () => {
    await assertRestError(cryptographyClientFor(rsaKey.id, full).unwrapKey("RSA-OAEP", randomBytes(256)), {
      statusCode: 400,
      code: "BadParameter",
    });
  });

  it("creating a key under the name of a soft-deleted key is RestError 409 Conflict", async () => {
    const name = unique("conflict");
    await keys.createRsaKey(name);
    await (await keys.beginDeleteKey(name, { intervalInMs: 50 })).pollUntilDone();
    await assertRestError(keys.createRsaKey(name), {
      statusCode: 409,
      code: "Conflict",
      message: /currently in a deleted but recoverable state/,
    });
  });
});

describe("Errors: 429 throttling", () => {
  /** The injected fault rules still pending. */
  async function pendingFaults() {
    return (await admin("GET", "/faults")).value;
  }

  it("the SDK retries 429 answers after Retry-After and succeeds once the throttling stops", async () => {
    const name = unique("throttled");
    const key = await keys.createRsaKey(name);
    const client = keyClientFor(full, { retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 100 } });
    await client.getKey(name); // the 401 challenge is done before the throttling starts
    const rule = await admin("POST", "/faults", {
      service: "keyvault", method: "GET", path_regex: `^/keys/${name}/?$`, status: 429, retry_after: 1, count: 2,
    });
    const started = Date.now();
    const got = await client.getKey(name);
    assert.equal(got.id, key.id);
    assert.ok(!(await pendingFaults()).some((r) => r.id === rule.id), "both 429 answers were consumed");
    assert.ok(Date.now() - started >= 1900, "the SDK waited Retry-After (1 s) before each retry");
  });

  it("when throttling outlasts the retries the SDK surfaces RestError 429 Throttled after maxRetries + 1 attempts", async () => {
    const name = unique("throttled-out");
    await keys.createRsaKey(name);
    const client = keyClientFor(full, { retryOptions: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 100 } });
    await client.getKey(name);
    // Exactly three 429 answers: the first attempt and two retries use them up.
    const rule = await admin("POST", "/faults", {
      service: "keyvault", method: "GET", path_regex: `^/keys/${name}/?$`, status: 429, retry_after: 1, count: 3,
    });
    const err = await assertRestError(client.getKey(name), { statusCode: 429, code: "Throttled" });
    assert.equal(err.response?.headers.get("retry-after"), "1");
    assert.ok(!(await pendingFaults()).some((r) => r.id === rule.id), "three attempts were made");
    // The throttling is over: the next call succeeds.
    assert.equal((await client.getKey(name)).name, name);
  });
});
