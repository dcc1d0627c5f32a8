// KeyClient (@azure/keyvault-keys) against the emulated vault: keys are
// created, read, listed page by page, rotated, updated, deleted, recovered,
// purged, backed up, restored and imported, and every answer is checked
// through the SDK's own models.
import assert from "node:assert/strict";
import { constants, generateKeyPairSync, publicEncrypt } from "node:crypto";
import { before, describe, it } from "node:test";

import {
  ALL_KEY_PERMISSIONS,
  assertRestError,
  credentialFor,
  cryptographyClientFor,
  fromB64url,
  keyClientFor,
  newIdentity,
  publicKeyOf,
  unique,
  vaultUrl,
} from "../lib/fidelity.mjs";

const RSA_DEFAULT_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"];
const VERSION_RE = /^[0-9a-f]{32}$/;

let client;
let credential;

before(async () => {
  const ident = await newIdentity("keyclient", ALL_KEY_PERMISSIONS);
  credential = credentialFor(ident);
  client = keyClientFor(credential);
});

/** Asserts the members every key version carries, as the SDK models them. */
function assertKeyShape(key, name, keyType) {
  assert.equal(key.name, name);
  assert.equal(key.keyType, keyType);
  assert.equal(key.key.kty, keyType);
  assert.match(key.properties.version, VERSION_RE);
  assert.equal(key.id, `${vaultUrl}/keys/${name}/${key.properties.version}`);
  assert.equal(key.key.kid, key.id);
  assert.equal(key.properties.vaultUrl, vaultUrl);
  assert.equal(key.properties.name, name);
  assert.ok(key.properties.createdOn instanceof Date);
  assert.ok(Math.abs(key.properties.createdOn.getTime() - Date.now()) < 120_000, "createdOn is now");
  assert.equal(key.properties.updatedOn.getTime(), key.properties.createdOn.getTime());
  // Soft delete with the default 90-day retention, purge protection off.
  assert.equal(key.properties.recoveryLevel, "Recoverable+Purgeable");
  assert.equal(key.properties.recoverableDays, 90);
  // The service states exportable (false unless asked) from api-version 7.4.
  assert.equal(key.properties.exportable, false);
}

describe("KeyClient: creating keys", () => {
  it("createRsaKey makes an enabled 2048-bit RSA key with e=65537 and the default operations", async () => {
    const name = unique("rsa");
    const key = await client.createRsaKey(name);
    assertKeyShape(key, name, "RSA");
    assert.equal(key.key.n.length, 256);
    assert.deepEqual(Buffer.from(key.key.e), Buffer.from([1, 0, 1]));
    assert.deepEqual(key.keyOperations, RSA_DEFAULT_OPS);
    assert.equal(key.properties.enabled, true);
    assert.equal(key.properties.hsmPlatform, "0", "software-protected key");
    assert.equal(key.properties.tags, undefined);
    // The public half is a usable RSA key.
    assert.equal(publicKeyOf(key.key).asymmetricKeyDetails.modulusLength, 2048);
  });

  it("createRsaKey honours key size, HSM protection, operations, tags, expiry and not-before", async () => {
    const name = unique("rsa-opts");
    const notBefore = new Date(Math.floor(Date.now() / 1000 - 60) * 1000);
    const expiresOn = new Date(Math.floor(Date.now() / 1000 + 86400 * 30) * 1000);
    const key = await client.createRsaKey(name, {
      keySize: 3072,
      hsm: true,
      keyOps: ["wrapKey", "unwrapKey"],
      tags: { purpose: "cmk", owner: "fidelity" },
      notBefore,
      expiresOn,
    });
    assertKeyShape(key, name, "RSA-HSM");
    assert.equal(key.key.n.length, 384);
    assert.deepEqual(key.keyOperations, ["wrapKey", "unwrapKey"]);
    assert.deepEqual(key.properties.tags, { purpose: "cmk", owner: "fidelity" });
    assert.equal(key.properties.notBefore.getTime(), notBefore.getTime());
    assert.equal(key.properties.expiresOn.getTime(), expiresOn.getTime());
    assert.equal(key.properties.hsmPlatform, "2", "HSM-protected key");
  });

  it("createRsaKey with enabled=false stores a disabled key", async () => {
    const name = unique("rsa-off");
    const key = await client.createRsaKey(name, { enabled: false });
    assert.equal(key.properties.enabled, false);
    assert.equal((await client.getKey(name)).properties.enabled, false);
  });

  for (const [curve, size] of [["P-256", 32], ["P-384", 48], ["P-521", 66], ["P-256K", 32]]) {
    it(`createEcKey on ${curve} returns a point on the curve with ${size}-byte coordinates and sign/verify`, async () => {
      const name = unique("ec");
      const key = await client.createEcKey(name, { curve });
      assertKeyShape(key, name, "EC");
      assert.equal(key.key.crv, curve);
      assert.equal(key.key.x.length, size);
      assert.equal(key.key.y.length, size);
      assert.deepEqual(key.keyOperations, ["sign", "verify"]);
      // node:crypto refuses a point that is not on the curve.
      assert.equal(publicKeyOf(key.key).asymmetricKeyType, "ec");
    });
  }
});

describe("KeyClient: reading keys and versions", () => {
  it("getKey returns the latest version by default and an older version when asked by version", async () => {
    const name = unique("versions");
    const first = await client.createRsaKey(name);
    const second = await client.createRsaKey(name);
    assert.notEqual(first.properties.version, second.properties.version);

    const latest = await client.getKey(name);
    assert.equal(latest.id, second.id);
    assert.deepEqual(Buffer.from(latest.key.n), Buffer.from(second.key.n));

    const older = await client.getKey(name, { version: first.properties.version });
    assert.equal(older.id, first.id);
    assert.deepEqual(Buffer.from(older.key.n), Buffer.from(first.key.n));
  });

  it("listPropertiesOfKeys pages through the vault at most maxPageSize keys a page, each key once", async () => {
    const prefix = unique("list");
    const names = [];
    for (let i = 0; i < 5; i++) {
      names.push(`${prefix}-${i}`);
      await client.createRsaKey(names[i], { tags: { n: String(i) } });
    }
    const seen = [];
    let pages = 0;
    for await (const page of client.listPropertiesOfKeys().byPage({ maxPageSize: 2 })) {
      pages++;
      assert.ok(page.length <= 2, `page of ${page.length} keys`);
      for (const props of page) {
        // List items name the key without a version.
        assert.equal(props.id, `${vaultUrl}/keys/${props.name}`);
        assert.equal(props.version, undefined);
        assert.equal(typeof props.enabled, "boolean");
        if (props.name.startsWith(prefix)) {
          seen.push(props.name);
          assert.deepEqual(props.tags, { n: props.name.slice(-1) });
        }
      }
    }
    assert.ok(pages >= 3, `5 keys at 2 a page make at least 3 pages, got ${pages}`);
    assert.deepEqual(seen.sort(), names);
  });

  it("listPropertiesOfKeys without paging options iterates every key", async () => {
    const name = unique("list-all");
    await client.createEcKey(name);
    const all = [];
    for await (const props of client.listPropertiesOfKeys()) {
      all.push(props.name);
    }
    assert.ok(all.includes(name));
    assert.equal(new Set(all).size, all.length, "no key listed twice");
  });

  it("listPropertiesOfKeyVersions pages through every version of a key", async () => {
    const name = unique("key-versions");
    const created = [];
    for (let i = 0; i < 5; i++) {
      created.push((await client.createEcKey(name)).properties.version);
    }
    const listed = [];
    let pages = 0;
    for await (const page of client.listPropertiesOfKeyVersions(name).byPage({ maxPageSize: 2 })) {
      pages++;
      assert.ok(page.length <= 2);
      for (const props of page) {
        assert.equal(props.name, name);
        assert.match(props.version, VERSION_RE);
        assert.equal(props.id, `${vaultUrl}/keys/${name}/${props.version}`);
        listed.push(props.version);
      }
    }
    assert.ok(pages >= 3, `5 versions at 2 a page make at least 3 pages, got ${pages}`);
    assert.deepEqual(listed.sort(), [...created].sort());
  });
});

describe("KeyClient: rotation", () => {
  it("rotateKey makes a new current version of the same type, size, operations and tags", async () => {
    const name = unique("rotate");
    const original = await client.createRsaKey(name, {
      keySize: 3072,
      keyOps: ["wrapKey", "unwrapKey", "verify"],
      tags: { cmk: "yes" },
    });
    const rotated = await client.rotateKey(name);
    assert.equal(rotated.name, name);
    assert.notEqual(rotated.properties.version, original.properties.version);
    assert.equal(rotated.keyType, "RSA");
    assert.equal(rotated.key.n.length, 384);
    assert.notDeepEqual(Buffer.from(rotated.key.n), Buffer.from(original.key.n));
    assert.deepEqual(rotated.keyOperations, ["wrapKey", "unwrapKey", "verify"]);
    assert.deepEqual(rotated.properties.tags, { cmk: "yes" });
    assert.equal((await client.getKey(name)).id, rotated.id);
    // The old version stays readable (data wrapped with it must still unwrap).
    const old = await client.getKey(name, { version: original.properties.version });
    assert.equal(old.id, original.id);
  });

  it("getKeyRotationPolicy of a key that never had one returns the service default: notify 30 days before expiry", async () => {
    const name = unique("policy-default");
    await client.createRsaKey(name);
    const policy = await client.getKeyRotationPolicy(name);
    // Azure answers {"lifetimeActions":[notify P30D],"attributes":null}: no id, no dates.
    assert.equal(policy.id, undefined);
    assert.equal(policy.createdOn, undefined);
    assert.equal(policy.updatedOn, undefined);
    assert.equal(policy.expiresIn, undefined);
    assert.equal(policy.lifetimeActions.length, 1);
    assert.equal(policy.lifetimeActions[0].action, "Notify");
    assert.equal(policy.lifetimeActions[0].timeBeforeExpiry, "P30D");
    assert.equal(policy.lifetimeActions[0].timeAfterCreate, undefined);
  });

  it("updateKeyRotationPolicy stores the policy, adds the default notify action, and rotation applies its expiry", async () => {
    const name = unique("policy");
    await client.createRsaKey(name);
    const set = await client.updateKeyRotationPolicy(name, {
      lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P18M" }],
      expiresIn: "P48M",
    });
    assert.equal(set.id, `${vaultUrl}/keys/${name}/rotationpolicy`);
    assert.equal(set.expiresIn, "P48M");
    assert.ok(set.createdOn instanceof Date && set.updatedOn instanceof Date);
    const actions = set.lifetimeActions.map((a) => ({ ...a }));
    assert.deepEqual(actions, [
      { action: "Rotate", timeAfterCreate: "P18M", timeBeforeExpiry: undefined },
      { action: "Notify", timeAfterCreate: undefined, timeBeforeExpiry: "P30D" },
    ]);

    const got = await client.getKeyRotationPolicy(name);
    assert.equal(got.id, set.id);
    assert.equal(got.expiresIn, "P48M");
    assert.deepEqual(got.lifetimeActions.map((a) => ({ ...a })), actions);

    // A policy with its own notify action is stored as given.
    const notifyOnly = await client.updateKeyRotationPolicy(name, {
      lifetimeActions: [{ action: "Notify", timeBeforeExpiry: "P60D" }],
      expiresIn: "P48M",
    });
    assert.deepEqual(notifyOnly.lifetimeActions.map((a) => ({ ...a })), [
      { action: "Notify", timeAfterCreate: undefined, timeBeforeExpiry: "P60D" },
    ]);
    assert.equal(notifyOnly.createdOn.getTime(), set.createdOn.getTime(), "created stays");

    // The next version expires expiryTime after its creation.
    const rotated = await client.rotateKey(name);
    const created = rotated.properties.createdOn;
    const expected = new Date(created);
    expected.setUTCMonth(expected.getUTCMonth() + 48);
    assert.ok(rotated.properties.expiresOn, "rotated version has an expiry");
    assert.ok(Math.abs(rotated.properties.expiresOn.getTime() - expected.getTime()) <= 86_400_000,
      `expiresOn ${rotated.properties.expiresOn.toISOString()} ~ ${expected.toISOString()}`);
  });
});

describe("KeyClient: updating keys", () => {
  it("updateKeyProperties disables a version and enables it again", async () => {
    const name = unique("toggle");
    const key = await client.createRsaKey(name);
    const version = key.properties.version;

    const disabled = await client.updateKeyProperties(name, version, { enabled: false });
    assert.equal(disabled.properties.enabled, false);
    assert.equal(disabled.id, key.id);
    assert.ok(disabled.properties.updatedOn >= key.properties.updatedOn);
    assert.equal((await client.getKey(name)).properties.enabled, false);

    const enabled = await client.updateKeyProperties(name, version, { enabled: true });
    assert.equal(enabled.properties.enabled, true);
    assert.equal((await client.getKey(name, { version })).properties.enabled, true);
  });

  it("updateKeyProperties changes tags, operations and expiry and leaves the key material alone", async () => {
    const name = unique("update");
    const key = await client.createRsaKey(name, { tags: { a: "1" } });
    const expiresOn = new Date(Math.floor(Date.now() / 1000 + 3600) * 1000);
    const updated = await client.updateKeyProperties(name, key.properties.version, {
      tags: { b: "2" },
      keyOps: ["wrapKey", "unwrapKey"],
      expiresOn,
    });
    assert.deepEqual(updated.properties.tags, { b: "2" });
    assert.deepEqual(updated.keyOperations, ["wrapKey", "unwrapKey"]);
    assert.equal(updated.properties.expiresOn.getTime(), expiresOn.getTime());
    assert.deepEqual(Buffer.from(updated.key.n), Buffer.from(key.key.n));
    const got = await client.getKey(name);
    assert.deepEqual(got.properties.tags, { b: "2" });
    assert.deepEqual(got.keyOperations, ["wrapKey", "unwrapKey"]);
  });

  it("updateKeyProperties without a version updates the latest version", async () => {
    const name = unique("update-latest");
    await client.createEcKey(name);
    const latest = await client.createEcKey(name);
    const updated = await client.updateKeyProperties(name, { tags: { latest: "yes" } });
    assert.equal(updated.id, latest.id);
    assert.deepEqual(updated.properties.tags, { latest: "yes" });
  });
});

describe("KeyClient: soft delete, recovery and purge", () => {
  it("beginDeleteKey soft-deletes a key; getDeletedKey and listDeletedKeys show it; the key is gone", async () => {
    const name = unique("delete");
    const key = await client.createRsaKey(name);
    const poller = await client.beginDeleteKey(name, { intervalInMs: 50 });
    const deleted = await poller.pollUntilDone();
    assert.equal(deleted.name, name);
    assert.equal(deleted.id, key.id);
    assert.equal(deleted.properties.recoveryId, `${vaultUrl}/deletedkeys/${name}`);
    assert.ok(deleted.properties.deletedOn instanceof Date);
    const retentionMs = deleted.properties.scheduledPurgeDate - deleted.properties.deletedOn;
    assert.equal(retentionMs, 90 * 86_400_000, "purge scheduled 90 days after deletion");

    const got = await client.getDeletedKey(name);
    assert.equal(got.id, key.id);
    assert.deepEqual(Buffer.from(got.key.n), Buffer.from(key.key.n));

    const listed = [];
    for await (const d of client.listDeletedKeys()) {
      listed.push(d.name);
      if (d.name === name) {
        assert.equal(d.properties.recoveryId, deleted.properties.recoveryId);
      }
    }
    assert.ok(listed.includes(name), "listDeletedKeys shows the key");

    await assertRestError(client.getKey(name), { statusCode: 404, code: "KeyNotFound" });
  });

  it("beginRecoverDeletedKey brings a deleted key back with its versions", async () => {
    const name = unique("recover");
    const v1 = await client.createRsaKey(name);
    const v2 = await client.rotateKey(name);
    await (await client.beginDeleteKey(name, { intervalInMs: 50 })).pollUntilDone();
    const recovered = await (await client.beginRecoverDeletedKey(name, { intervalInMs: 50 })).pollUntilDone();
    assert.equal(recovered.id, v2.id);
    assert.equal((await client.getKey(name, { version: v1.properties.version })).id, v1.id);
    await assertRestError(client.getDeletedKey(name), { statusCode: 404, code: "KeyNotFound" });
  });

  it("purgeDeletedKey removes a deleted key for good, after which the name can be used again", async () => {
    const name = unique("purge");
    await client.createRsaKey(name);
    await (await client.beginDeleteKey(name, { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedKey(name);
    await assertRestError(client.getDeletedKey(name), { statusCode: 404, code: "KeyNotFound" });
    const again = await client.createEcKey(name);
    assert.equal(again.name, name);
    assert.equal(again.keyType, "EC");
  });
});

describe("KeyClient: backup, restore and import", () => {
  it("backupKey and restoreKeyBackup bring back a purged key with every version", async () => {
    const name = unique("backup");
    const v1 = await client.createRsaKey(name);
    const v2 = await client.rotateKey(name);
    const blob = await client.backupKey(name);
    assert.ok(blob instanceof Uint8Array && blob.length > 0);

    await (await client.beginDeleteKey(name, { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedKey(name);

    const restored = await client.restoreKeyBackup(blob);
    assert.equal(restored.name, name);
    assert.equal(restored.id, v2.id);
    const versions = [];
    for await (const p of client.listPropertiesOfKeyVersions(name)) {
      versions.push(p.version);
    }
    assert.deepEqual(versions.sort(), [v1.properties.version, v2.properties.version].sort());
  });

  it("importKey stores an RSA private key: the vault exposes its public half and decrypts for it", async () => {
    const name = unique("import");
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = privateKey.export({ format: "jwk" });
    const sdkJwk = { kty: "RSA", keyOps: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] };
    for (const member of ["n", "e", "d", "p", "q", "dp", "dq", "qi"]) {
      sdkJwk[member] = fromB64url(jwk[member]);
    }
    const imported = await client.importKey(name, sdkJwk, { tags: { origin: "local" } });
    assert.equal(imported.keyType, "RSA");
    assert.deepEqual(Buffer.from(imported.key.n), fromB64url(jwk.n));
    assert.equal(imported.key.d, undefined, "the private part is never returned");
    assert.deepEqual(imported.keyOperations, ["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
    assert.deepEqual(imported.properties.tags, { origin: "local" });

    // Encrypted locally with the public half, decrypted by the vault.
    const secret = Buffer.from("data encrypted outside the vault");
    const ciphertext = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      secret,
    );
    const crypto = cryptographyClientFor(imported, credential);
    const decrypted = await crypto.decrypt({ algorithm: "RSA-OAEP-256", ciphertext });
    assert.deepEqual(Buffer.from(decrypted.result), secret);
  });
});
