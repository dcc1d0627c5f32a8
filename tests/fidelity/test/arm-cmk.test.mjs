// Customer-managed keys through the official ARM clients: the Foundry (Cognitive
// Services) account's binding refusals with their ARM codes, and an ML
// workspace's key rotation within its vault with the refusals around it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";

import {
  POLL, RESOURCE_GROUP, SUBSCRIPTION, armCredential, armOptions, vaultId,
} from "../lib/arm.mjs";
import { admin, assertRestError, unique, vaultName } from "../lib/fidelity.mjs";

const GRANT = ["get", "wrapKey", "unwrapKey"];

/** A vault of its own (Foundry wants soft delete and purge protection) and an RSA key in it. */
async function vaultWithKey(prefix, { purgeProtection = true, size = 2048 } = {}) {
  const name = unique(prefix);
  await admin("POST", "/vaults", { name, purge_protection: purgeProtection });
  const key = await admin("POST", `/vaults/${name}/keys`, { name: unique("cmk"), size });
  return { vault: name, keyName: key.key.kid.split("/")[4] };
}

const binding = ({ vault, keyName }) => ({
  properties: { encryption: { keySource: "Microsoft.KeyVault", keyVaultProperties: {
    keyName, keyVaultUri: `https://${vault}.vault.azure.net/` } } },
});

describe("ARM customer-managed keys", () => {
  it("CognitiveServicesManagementClient: binding refusals come back as RestErrors with the ARM codes", async () => {
    const client = new CognitiveServicesManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const name = unique("foundry");
    const account = await client.accounts.beginCreateAndWait(RESOURCE_GROUP, name, {
      location: "eastus", kind: "AIServices", sku: { name: "S0" }, identity: { type: "SystemAssigned" },
      properties: { customSubDomainName: name },
    }, POLL);
    const grant = (vault) => admin("PUT", `/vaults/${vault}/access-policies/${account.identity.principalId}`, { keys: GRANT });
    const noPurge = await vaultWithKey("nopurge", { purgeProtection: false });
    await grant(noPurge.vault);
    await assertRestError(client.accounts.beginUpdateAndWait(RESOURCE_GROUP, name, binding(noPurge), POLL),
      { statusCode: 400, code: "KeyVaultSoftDeleteAndPurgeProtectionRequired" });
    const big = await vaultWithKey("big", { size: 3072 });
    await grant(big.vault);
    await assertRestError(client.accounts.beginUpdateAndWait(RESOURCE_GROUP, name, binding(big), POLL),
      { statusCode: 400, code: "KeySizeNotSupported" });
    // A 2048-bit key of that vault binds; another vault is refused once bound.
    const ok = { vault: big.vault, keyName: (await admin("POST", `/vaults/${big.vault}/keys`, { name: unique("cmk") })).key.kid.split("/")[4] };
    const bound = await client.accounts.beginUpdateAndWait(RESOURCE_GROUP, name, binding(ok), POLL);
    assert.equal(bound.properties.encryption.keyVaultProperties.keyName, ok.keyName);
    const other = await vaultWithKey("other");
    await grant(other.vault);
    await assertRestError(client.accounts.beginUpdateAndWait(RESOURCE_GROUP, name, binding(other), POLL),
      { statusCode: 400, code: "KeyVaultCannotBeChanged" });
    const after = await client.accounts.get(RESOURCE_GROUP, name);
    assert.equal(after.properties.encryption.keyVaultProperties.keyVaultUri, `https://${big.vault}.vault.azure.net/`);
  });

  it("AzureMachineLearningWorkspaces rotates a hub's key within its vault and is refused otherwise", async () => {
    const client = new AzureMachineLearningWorkspaces(await armCredential(), SUBSCRIPTION, armOptions);
    // A vault the hub's binding accepts (purge protection, as for an account), and keys in it.
    const own = await vaultWithKey("ws-rot");
    const ownId = vaultId.replace(vaultName, own.vault);
    const newKid = async () => ({ id: (await admin("POST", `/vaults/${own.vault}/keys`, { name: unique("ws-rot") })).key.kid });
    const first = await newKid();
    const hub = unique("hub");
    const uai = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${hub}-uai`;
    const mi = await admin("POST", "/identities", { name: `${hub}-uai`, managed: true });
    await admin("PUT", `/vaults/${own.vault}/access-policies/${mi.object_id}`, { keys: GRANT });
    await admin("POST", "/workspaces", { name: hub, kind: "Hub", encryption: {
      status: "Enabled", keyVaultProperties: { keyVaultArmId: ownId, keyIdentifier: first.id },
      identity: { userAssignedIdentity: uai } } });
    // The pinned SDK (api-version 2022-10-01) has no encryption in WorkspaceUpdateParameters,
    // so its user rotates with a PUT of the workspace read back, the key identifier changed.
    const ws = await client.workspaces.get(RESOURCE_GROUP, hub);
    const second = await newKid();
    const rotate = (keyVaultArmId, keyIdentifier, name = hub, from = ws) => client.workspaces.beginCreateOrUpdateAndWait(
      RESOURCE_GROUP, name, {
        ...from, encryption: { ...from.encryption, keyVaultProperties: { keyVaultArmId, keyIdentifier } },
      }, POLL);
    const rotated = await rotate(ownId, second.id);
    assert.equal(rotated.encryption.keyVaultProperties.keyIdentifier, second.id);
    assert.equal((await client.workspaces.get(RESOURCE_GROUP, hub)).encryption.keyVaultProperties.keyIdentifier, second.id);
    // Another vault: refused.
    const other = await vaultWithKey("wsother");
    const otherId = vaultId.replace(vaultName, other.vault);
    await assertRestError(rotate(otherId, `https://${other.vault}.vault.azure.net/keys/${other.keyName}`),
      { statusCode: 400, code: "KeyVaultCannotBeChanged" });
    // A workspace created without CMK cannot get one later.
    const plain = unique("plain");
    await admin("POST", "/workspaces", { name: plain });
    const plainWs = await client.workspaces.get(RESOURCE_GROUP, plain);
    await assertRestError(client.workspaces.beginCreateOrUpdateAndWait(RESOURCE_GROUP, plain, {
      ...plainWs, encryption: { status: "Enabled", keyVaultProperties: { keyVaultArmId: ownId, keyIdentifier: second.id } },
    }, POLL), { statusCode: 400, code: "EncryptionCannotBeUpdated" });
    // A project takes its hub's key: rotating it on the project is refused.
    const project = unique("proj");
    await admin("POST", "/workspaces", { name: project, kind: "Project",
      hub_resource_id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/${hub}` });
    const projectWs = await client.workspaces.get(RESOURCE_GROUP, project);
    assert.equal(projectWs.encryption.keyVaultProperties.keyIdentifier, second.id);
    await assertRestError(rotate(ownId, first.id, project, projectWs),
      { statusCode: 400, code: "ProjectEncryptionInheritedFromHub" });
  });
});
