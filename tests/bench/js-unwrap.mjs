// The bench's JavaScript side (issue 16): the official Azure SDK for
// JavaScript, CryptographyClient.unwrapKey (RSA-OAEP-256), built exactly as
// the fidelity suite builds it (tests/fidelity/lib/fidelity.mjs: the
// emulator's --localhost-vault alias of the bench vault, its Entra ID as the
// authority, its CA through NODE_EXTRA_CA_CERTS), with the identity of the
// module's configuration. tests/bench/bench.c starts it (`node js-unwrap.mjs`,
// with FIDELITY_STATE_DIR and NODE_EXTRA_CA_CERTS set by tests/bench/js.sh)
// and drives it over stdin/stdout, one line each way:
//   setup KID WRAPPED   KID as the module sees it (its origin is replaced by
//                       the emulator's localhost alias of the same vault),
//                       WRAPPED the base64url key bench.c unwraps; the client
//                       is made and unwraps once (challenge, token, key
//                       fetch), then: ready NODE_VERSION SDK_VERSION
//   run N SECONDS       N unwraps in flight (N async loops of awaited calls)
//                       for SECONDS, then: done OPS ELAPSED_S CPU_S FAILURES
//                       (CPU_S: this process's user + system time)
// It ends at the end of its input. Errors go to stderr.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";

import { credentialFor, cryptographyClientFor, vaultUrl } from "../fidelity/lib/fidelity.mjs";

const AES_KEY_BYTES = 32;
const config = process.env.BENCH_JS_MODULE_CONFIG;
if (!config) {
  throw new Error("BENCH_JS_MODULE_CONFIG is not set: run the bench with tests/bench/run.sh");
}

let client;
let wrapped;

/** `inFlight` loops of awaited unwraps for `seconds`; the counts and times. */
async function round(inFlight, seconds) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let ops = 0;
  let failures = 0;
  async function loop() {
    while (failures === 0 && performance.now() < deadline) {
      try {
        const { result } = await client.unwrapKey("RSA-OAEP-256", wrapped);
        if (result.length === AES_KEY_BYTES) {
          ops++;
        } else {
          failures++;
          console.error(`js-unwrap: unwrapKey gave ${result.length} bytes, not ${AES_KEY_BYTES}`);
        }
      } catch (err) {
        failures++;
        console.error(`js-unwrap: unwrapKey failed: ${err.name}: ${err.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ops, elapsed, cpu: (cpu.user + cpu.system) / 1e6, failures };
}

async function setup(kid, wrappedB64url) {
  const { credential } = JSON.parse(readFileSync(config, "utf8"));
  const keyId = vaultUrl + new URL(kid).pathname;
  client = cryptographyClientFor(keyId, credentialFor(credential));
  wrapped = Buffer.from(wrappedB64url, "base64url");
  // The first call gets the challenge, the token and the key (bench.c then
  // runs an untimed round at each concurrency: the JIT, the connections).
  await client.unwrapKey("RSA-OAEP-256", wrapped);
  const sdk = JSON.parse(readFileSync(
    new URL("../fidelity/node_modules/@azure/keyvault-keys/package.json", import.meta.url), "utf8"));
  return `ready ${process.version} ${sdk.version}`;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const [command, ...args] = line.split(" ");
  if (command === "setup" && args.length === 2) {
    console.log(await setup(args[0], args[1]));
  } else if (command === "run" && args.length === 2) {
    const r = await round(Number(args[0]), Number(args[1]));
    console.log(`done ${r.ops} ${r.elapsed} ${r.cpu} ${r.failures}`);
  } else {
    throw new Error(`js-unwrap: unknown command: ${line}`);
  }
}
