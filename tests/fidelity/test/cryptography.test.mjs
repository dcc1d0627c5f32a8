// CryptographyClient (@azure/keyvault-keys) against the emulated vault:
// wrap/unwrap, encrypt/decrypt and sign/verify with every algorithm the vault
// offers for RSA and EC keys. Results are checked against node:crypto with the
// key's public JWK, so the vault's padding and signature formats are the
// standard ones, not merely self-consistent.
import assert from "node:assert/strict";
import { constants, createHash, publicEncrypt, randomBytes, verify } from "node:crypto";
import { before, describe, it } from "node:test";

import {
  ALL_KEY_PERMISSIONS,
  credentialFor,
  cryptographyClientFor,
  keyClientFor,
  newIdentity,
  publicKeyOf,
  unique,
} from "../lib/fidelity.mjs";

const ENCRYPTION_ALGORITHMS = ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"];

/** node:crypto publicEncrypt options for a Key Vault encryption algorithm. */
function nodePadding(algorithm) {
  switch (algorithm) {
    case "RSA-OAEP":
      return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" };
    case "RSA-OAEP-256":
      return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" };
    case "RSA1_5":
      return { padding: constants.RSA_PKCS1_PADDING };
    default:
      throw new Error(algorithm);
  }
}

let keys;            // KeyClient with every permission
let fullCredential;  // ... and its credential
let rsaKey;          // an RSA-2048 key

before(async () => {
  const full = await newIdentity("crypto", ALL_KEY_PERMISSIONS);
  fullCredential = credentialFor(full);
  keys = keyClientFor(fullCredential);
  rsaKey = await keys.createRsaKey(unique("crypto-rsa"));
});

describe("CryptographyClient: wrapKey and unwrapKey", () => {
  for (const algorithm of ENCRYPTION_ALGORITHMS) {
    it(`wrapKey and unwrapKey round-trip a 256-bit key with ${algorithm}`, async () => {
      const client = cryptographyClientFor(rsaKey, fullCredential);
      const dek = randomBytes(32);
      const wrapped = await client.wrapKey(algorithm, dek);
      assert.equal(wrapped.algorithm, algorithm);
      assert.equal(wrapped.keyID, rsaKey.id);
      assert.equal(wrapped.result.length, 256, "one RSA-2048 block");
      const unwrapped = await client.unwrapKey(algorithm, wrapped.result);
      assert.equal(unwrapped.keyID, rsaKey.id);
      assert.deepEqual(Buffer.from(unwrapped.result), dek);
    });

    it(`unwrapKey in the vault recovers a key wrapped by node:crypto with the public JWK and ${algorithm}`, async () => {
      const dek = randomBytes(32);
      const wrapped = publicEncrypt({ key: publicKeyOf(rsaKey.key), ...nodePadding(algorithm) }, dek);
      const client = cryptographyClientFor(rsaKey.id, fullCredential);
      const unwrapped = await client.unwrapKey(algorithm, wrapped);
      assert.deepEqual(Buffer.from(unwrapped.result), dek);
    });
  }

  it("with only wrapKey and unwrapKey permissions the SDK does both in the vault (its get is refused with 403)", async () => {
    // Foundry-like least privilege minus get: the SDK tries to read the key
    // for local wrapping, gets 403 and must fall back to the vault's wrapkey.
    const ident = await newIdentity("wrap-only", ["wrapKey", "unwrapKey"]);
    const client = cryptographyClientFor(rsaKey.id, credentialFor(ident));
    const dek = randomBytes(32);
    for (const algorithm of ENCRYPTION_ALGORITHMS) {
      const wrapped = await client.wrapKey(algorithm, dek);
      assert.equal(wrapped.keyID, rsaKey.id, "the vault names the key version it used");
      const unwrapped = await client.unwrapKey(algorithm, wrapped.result);
      assert.deepEqual(Buffer.from(unwrapped.result), dek, algorithm);
    }
  });

  it("after rotation, a key wrapped with the old version still unwraps through a client for that version", async () => {
    const name = unique("crypto-rotated");
    const old = await keys.createRsaKey(name);
    const dek = randomBytes(32);
    const wrapped = await cryptographyClientFor(old.id, fullCredential).wrapKey("RSA-OAEP-256", dek);
    const current = await keys.rotateKey(name);
    assert.notEqual(current.id, old.id);
    const unwrapped = await cryptographyClientFor(old.id, fullCredential).unwrapKey("RSA-OAEP-256", wrapped.result);
    assert.equal(unwrapped.keyID, old.id);
    assert.deepEqual(Buffer.from(unwrapped.result), dek);
  });
});

describe("CryptographyClient: encrypt and decrypt", () => {
  for (const algorithm of ENCRYPTION_ALGORITHMS) {
    it(`encrypt and decrypt in the vault round-trip with ${algorithm}`, async () => {
      // No get permission: both operations go to the vault's encrypt/decrypt.
      const ident = await newIdentity("enc", ["encrypt", "decrypt"]);
      const client = cryptographyClientFor(rsaKey.id, credentialFor(ident));
      const plaintext = Buffer.from(`secret for ${algorithm}`);
      const encrypted = await client.encrypt({ algorithm, plaintext });
      assert.equal(encrypted.algorithm, algorithm);
      assert.equal(encrypted.keyID, rsaKey.id);
      assert.equal(encrypted.result.length, 256);
      assert.notDeepEqual(Buffer.from(encrypted.result), plaintext);
      const again = await client.encrypt({ algorithm, plaintext });
      assert.notDeepEqual(Buffer.from(again.result), Buffer.from(encrypted.result), "padding is randomised");
      const decrypted = await client.decrypt({ algorithm, ciphertext: encrypted.result });
      assert.equal(decrypted.keyID, rsaKey.id);
      assert.deepEqual(Buffer.from(decrypted.result), plaintext);
    });
  }

  it("decrypt in the vault recovers data encrypted locally by the SDK with the key's public half", async () => {
    const client = cryptographyClientFor(rsaKey, fullCredential);
    const plaintext = Buffer.from("encrypted locally, decrypted in the vault");
    // RSA-OAEP with key material at hand: the SDK encrypts locally.
    const encrypted = await client.encrypt({ algorithm: "RSA-OAEP", plaintext });
    const decrypted = await client.decrypt({ algorithm: "RSA-OAEP", ciphertext: encrypted.result });
    assert.deepEqual(Buffer.from(decrypted.result), plaintext);
  });
});

describe("CryptographyClient: sign and verify", () => {
  let verifier; // an identity allowed to verify, nothing else

  before(async () => {
    verifier = await newIdentity("verifier", ["verify"]);
  });

  const RSA_SIGNATURES = [
    ["RS256", "sha256", false], ["RS384", "sha384", false], ["RS512", "sha512", false],
    ["PS256", "sha256", true], ["PS384", "sha384", true], ["PS512", "sha512", true],
  ];
  for (const [algorithm, hash, pss] of RSA_SIGNATURES) {
    it(`${algorithm}: the vault's signature verifies with node:crypto, and verify in the vault accepts it and rejects a tampered one`, async () => {
      const client = cryptographyClientFor(rsaKey, fullCredential);
      const data = Buffer.from(`document signed with ${algorithm}`);
      const digest = createHash(hash).update(data).digest();
      const signed = await client.sign(algorithm, digest);
      assert.equal(signed.algorithm, algorithm);
      assert.equal(signed.keyID, rsaKey.id);
      assert.equal(signed.result.length, 256);

      const key = publicKeyOf(rsaKey.key);
      const options = pss
        // Key Vault's PSS salt is as long as the digest.
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digest.length }
        : { key, padding: constants.RSA_PKCS1_PADDING };
      assert.ok(verify(hash, data, options, signed.result), "node:crypto verifies the signature");

      // An identity with verify but not get: the SDK cannot read the key and
      // verifies in the vault (verify with the digest, verifyData hashing first).
      const remote = cryptographyClientFor(rsaKey.id, credentialFor(verifier));
      assert.equal((await remote.verify(algorithm, digest, signed.result)).result, true);
      assert.equal((await remote.verifyData(algorithm, data, signed.result)).result, true);
      const tampered = Buffer.from(signed.result);
      tampered[10] ^= 0x01;
      assert.equal((await remote.verify(algorithm, digest, tampered)).result, false);
      if (!pss) {
        // With the key at hand verifyData runs locally. (Not for PS*: SDK
        // 4.10.2 verifies locally with node:crypto's default PKCS#1 v1.5
        // padding, so its local verifyData rejects every PSS signature,
        // against Azure too; nothing the vault can change.)
        assert.equal((await client.verifyData(algorithm, data, signed.result)).result, true);
      }
    });
  }

  const EC_SIGNATURES = [
    ["ES256", "P-256", "sha256", 64], ["ES384", "P-384", "sha384", 96],
    ["ES512", "P-521", "sha512", 132], ["ES256K", "P-256K", "sha256", 64],
  ];
  for (const [algorithm, curve, hash, size] of EC_SIGNATURES) {
    it(`${algorithm} on ${curve}: the vault signs with a ${size}-byte r||s signature node:crypto verifies, and the vault verifies it`, async () => {
      const ecKey = await keys.createEcKey(unique("crypto-ec"), { curve });
      const client = cryptographyClientFor(ecKey, fullCredential);
      const data = Buffer.from(`document signed with ${algorithm}`);
      const digest = createHash(hash).update(data).digest();
      const signed = await client.sign(algorithm, digest);
      assert.equal(signed.keyID, ecKey.id);
      assert.equal(signed.result.length, size);
      const key = publicKeyOf(ecKey.key);
      assert.ok(verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, signed.result), "node:crypto verifies");

      assert.equal((await client.verify(algorithm, digest, signed.result)).result, true);
      const tampered = Buffer.from(signed.result);
      tampered[size - 1] ^= 0x01;
      assert.equal((await client.verify(algorithm, digest, tampered)).result, false);

      const signedData = await client.signData(algorithm, data);
      assert.ok(verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, signedData.result));
      assert.equal((await client.verifyData(algorithm, data, signedData.result)).result, true);
    });
  }
});
