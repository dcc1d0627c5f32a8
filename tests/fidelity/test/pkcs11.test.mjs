// Cross-checks between the official SDK and our PKCS#11 module, both talking
// to the same emulated vault: what one wraps, the other unwraps. The module is
// driven by tools/azkv-envelope (build/tools/azkv-envelope), an ordinary
// PKCS#11 application, with a configuration like a user's: the vault's real
// host name (https://fidelity.vault.azure.net), a client-secret identity with
// Foundry's least privilege (get, wrapKey, unwrapKey on named keys), the
// emulator's CA and http.connect_to pointing at the emulator.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createDecipheriv, createCipheriv, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";

import {
  ALL_KEY_PERMISSIONS,
  clientSecretOf,
  credentialFor,
  cryptographyClientFor,
  keyClientFor,
  moduleConfig,
  newIdentity,
  unique,
  vaultName,
  vaultUrl,
} from "../lib/fidelity.mjs";

const run = promisify(execFile);
const MODULE = process.env.AZKV_MODULE;
const ENVELOPE = process.env.AZKV_ENVELOPE;
const ALGORITHMS = ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"];
// azkv-envelope's algorithm numbers in the envelope header.
const ENVELOPE_ALG = { "RSA-OAEP": 1, "RSA-OAEP-256": 2, RSA1_5: 3 };

let workDir;
let sdkCredential;  // SDK side: every permission
let keyName;        // an RSA-2048 key both sides use
let sdkKey;         // ... as the SDK sees it
let config;         // module configuration file

/** Runs azkv-envelope with the module and the configuration; returns stdout. */
async function envelope(...args) {
  try {
    const { stdout } = await run(ENVELOPE, ["--module", MODULE, ...args], {
      env: { ...process.env, AZKV_PKCS11_CONFIG: config },
    });
    return stdout.trim();
  } catch (err) {
    throw new Error(`azkv-envelope ${args.join(" ")} failed (exit ${err.code}): ${err.stderr}`);
  }
}

before(async () => {
  assert.ok(MODULE && existsSync(MODULE), `the module is built (AZKV_MODULE=${MODULE})`);
  assert.ok(ENVELOPE && existsSync(ENVELOPE), `azkv-envelope is built (AZKV_ENVELOPE=${ENVELOPE})`);
  workDir = mkdtempSync(join(process.env.FIDELITY_WORK_DIR ?? "/tmp", "pkcs11-"));

  sdkCredential = credentialFor(await newIdentity("p11-sdk", ALL_KEY_PERMISSIONS));
  keyName = unique("p11-cmk");
  sdkKey = await keyClientFor(sdkCredential).createRsaKey(keyName, { keySize: 2048 });

  // The module's identity: exactly what Foundry's managed identity gets.
  const moduleIdentity = await newIdentity("p11-module", ["get", "wrapKey", "unwrapKey"]);
  config = join(workDir, "azkv-pkcs11.json");
  // RSA1_5 unwrap is off by default (a padding oracle); the cross-over
  // tests below really do exchange RSA1_5-wrapped keys with the SDK.
  writeFileSync(config, moduleConfig(clientSecretOf(moduleIdentity),
    { keys: [keyName], allow_rsa_pkcs1_v15_decrypt: true }, { log: { level: "warn" } }), { mode: 0o600 });
});

describe("azkv-pkcs11 module and SDK: wrapped keys cross over", () => {
  for (const algorithm of ALGORITHMS) {
    it(`a key wrapped by the SDK with ${algorithm} unwraps through the azkv-pkcs11 module`, async () => {
      const dek = randomBytes(32);
      // Built from the key: the SDK wraps locally where it can (RSA-OAEP,
      // RSA1_5) and in the vault otherwise (RSA-OAEP-256).
      const wrapped = await cryptographyClientFor(sdkKey, sdkCredential).wrapKey(algorithm, dek);
      const file = join(workDir, `sdk-${algorithm}.bin`);
      writeFileSync(file, wrapped.result);
      const hex = await envelope("unwrap", "--key", keyName, "--wrapped", file, "--alg", algorithm);
      assert.equal(hex.toLowerCase(), dek.toString("hex"));
    });

    it(`a key the vault wrapped (wrapkey through the SDK) with ${algorithm} unwraps through the azkv-pkcs11 module`, async () => {
      // An identity without get: the SDK has to call the vault's wrapkey.
      const wrapOnly = credentialFor(await newIdentity("p11-wrap", ["wrapKey"]));
      const dek = randomBytes(32);
      const wrapped = await cryptographyClientFor(sdkKey.id, wrapOnly).wrapKey(algorithm, dek);
      const file = join(workDir, `vault-${algorithm}.bin`);
      writeFileSync(file, wrapped.result);
      const hex = await envelope("unwrap", "--key", keyName, "--wrapped", file, "--alg", algorithm);
      assert.equal(hex.toLowerCase(), dek.toString("hex"));
    });

    it(`a key wrapped by the azkv-pkcs11 module with ${algorithm} unwraps through the SDK`, async () => {
      const file = join(workDir, `module-${algorithm}.bin`);
      const hex = await envelope("wrap-new", "--key", keyName, "--out", file, "--alg", algorithm);
      assert.match(hex, /^[0-9a-fA-F]{64}$/, "a 256-bit key");
      const wrapped = readFileSync(file);
      assert.equal(wrapped.length, 256);
      const unwrapped = await cryptographyClientFor(sdkKey.id, sdkCredential).unwrapKey(algorithm, wrapped);
      assert.equal(Buffer.from(unwrapped.result).toString("hex"), hex.toLowerCase());
    });
  }
});

// The envelope file of azkv-envelope (see tools/azkv-envelope.c): "AZKVENV1",
// 16-bit big-endian length-prefixed key id, label and wrapped key, a 16-bit
// algorithm number, a 12-byte IV, AES-256-GCM ciphertext and 16-byte tag;
// everything before the IV is the GCM additional data.
function parseEnvelope(buf) {
  assert.equal(buf.subarray(0, 8).toString("latin1"), "AZKVENV1");
  let pos = 8;
  const field = () => {
    const len = buf.readUInt16BE(pos);
    const value = buf.subarray(pos + 2, pos + 2 + len);
    pos += 2 + len;
    return value;
  };
  const kid = field().toString("utf8");
  const label = field().toString("utf8");
  const wrapped = field();
  const alg = buf.readUInt16BE(pos);
  pos += 2;
  const aad = buf.subarray(0, pos);
  const iv = buf.subarray(pos, pos + 12);
  const body = buf.subarray(pos + 12);
  return { kid, label, wrapped, alg, aad, iv, ciphertext: body.subarray(0, -16), tag: body.subarray(-16) };
}

function buildEnvelope({ kid, label, wrapped, alg, dek, plaintext }) {
  const lengthPrefixed = (b) => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return [len, b];
  };
  const algBytes = Buffer.alloc(2);
  algBytes.writeUInt16BE(alg);
  const aad = Buffer.concat([Buffer.from("AZKVENV1", "latin1"), ...lengthPrefixed(Buffer.from(kid)),
    ...lengthPrefixed(Buffer.from(label)), ...lengthPrefixed(Buffer.from(wrapped)), algBytes]);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", dek, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([aad, iv, ciphertext, cipher.getAuthTag()]);
}

describe("azkv-pkcs11 module and SDK: envelope encryption end to end", () => {
  it("a file sealed through the azkv-pkcs11 module opens with the SDK's unwrapKey and AES-256-GCM", async () => {
    const plaintext = randomBytes(1000);
    const input = join(workDir, "plain.bin");
    const sealed = join(workDir, "sealed.azkv");
    writeFileSync(input, plaintext);
    await envelope("seal", "--key", keyName, "--in", input, "--out", sealed, "--alg", "RSA-OAEP-256");

    const env = parseEnvelope(readFileSync(sealed));
    assert.equal(env.label, keyName);
    assert.equal(env.alg, ENVELOPE_ALG["RSA-OAEP-256"]);
    // The module records the exact key version it wrapped with.
    const version = sdkKey.properties.version;
    assert.equal(env.kid, `https://${vaultName}.vault.azure.net/keys/${keyName}/${version}`);
    const sdkKeyId = `${vaultUrl}/keys/${keyName}/${version}`;
    const dek = (await cryptographyClientFor(sdkKeyId, sdkCredential).unwrapKey("RSA-OAEP-256", env.wrapped)).result;
    const decipher = createDecipheriv("aes-256-gcm", Buffer.from(dek), env.iv);
    decipher.setAAD(env.aad);
    decipher.setAuthTag(env.tag);
    const opened = Buffer.concat([decipher.update(env.ciphertext), decipher.final()]);
    assert.deepEqual(opened, plaintext);
  });

  it("a file sealed with the SDK's wrapKey and AES-256-GCM opens through the module", async () => {
    const plaintext = randomBytes(1000);
    const dek = randomBytes(32);
    const wrapped = await cryptographyClientFor(sdkKey, sdkCredential).wrapKey("RSA-OAEP", dek);
    const sealed = join(workDir, "sdk-sealed.azkv");
    writeFileSync(sealed, buildEnvelope({
      kid: `https://${vaultName}.vault.azure.net/keys/${keyName}/${sdkKey.properties.version}`,
      label: keyName,
      wrapped: wrapped.result,
      alg: ENVELOPE_ALG["RSA-OAEP"],
      dek,
      plaintext,
    }));
    const output = join(workDir, "sdk-opened.bin");
    await envelope("open", "--in", sealed, "--out", output);
    assert.deepEqual(readFileSync(output), plaintext);
  });
});

describe("azkv-pkcs11 module and SDK: signatures", () => {
  // pkcs11-tool (OpenSC) signs through the module with an identity that may
  // sign; the SDK's CryptographyClient verifies. pkcs11-tool selects keys by
  // CKA_ID, which the module sets to the key version's 16 bytes.
  const cases = [
    { kty: "RSA", mechanism: "SHA256-RSA-PKCS", algorithm: "RS256" },
    { kty: "RSA", mechanism: "SHA256-RSA-PKCS-PSS", algorithm: "PS256" },
    { kty: "EC", mechanism: "ECDSA-SHA256", algorithm: "ES256" },
  ];
  let signConfig;
  let verifyOnly;
  const keys = {};

  before(async () => {
    const client = keyClientFor(sdkCredential);
    keys.RSA = await client.createRsaKey(unique("p11-sign-rsa"), { keySize: 2048 });
    keys.EC = await client.createEcKey(unique("p11-sign-ec"), { curve: "P-256" });
    const signer = await newIdentity("p11-signer", ["get", "sign"]);
    verifyOnly = credentialFor(await newIdentity("p11-verifier", ["verify"]));
    signConfig = join(workDir, "azkv-pkcs11-sign.json");
    writeFileSync(signConfig, moduleConfig(clientSecretOf(signer),
      { keys: [keys.RSA.name, keys.EC.name] }, { log: { level: "warn" } }), { mode: 0o600 });
  });

  for (const { kty, mechanism, algorithm } of cases) {
    it(`a ${mechanism} signature made through the module verifies in the SDK as ${algorithm}`, async () => {
      const data = Buffer.from(`signed through azkv-pkcs11 with ${mechanism}`);
      const input = join(workDir, `sign-${mechanism}.txt`);
      const output = join(workDir, `sign-${mechanism}.sig`);
      writeFileSync(input, data);
      const args = ["--module", MODULE, "--sign", "--id", keys[kty].properties.version,
        "-m", mechanism, "-i", input, "-o", output];
      try {
        await run("pkcs11-tool", args, { env: { ...process.env, AZKV_PKCS11_CONFIG: signConfig } });
      } catch (err) {
        throw new Error(`pkcs11-tool ${args.join(" ")} failed: ${err.stderr}`);
      }
      const signature = readFileSync(output);
      // SDK 4.10.2 checks PS* signatures locally with PKCS#1 v1.5 padding,
      // so PSS is verified by the vault: an identity without "get" makes the
      // SDK call the vault's verify.
      const crypto = cryptographyClientFor(keys[kty].id,
        algorithm.startsWith("PS") ? verifyOnly : sdkCredential);
      const verified = await crypto.verifyData(algorithm, data, signature);
      assert.equal(verified.result, true, "the SDK accepts the module's signature");
      const forged = await crypto.verifyData(algorithm, Buffer.from("other data"), signature);
      assert.equal(forged.result, false, "and rejects it for other data");
    });
  }
});
