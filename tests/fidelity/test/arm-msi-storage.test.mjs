// User-assigned managed identities and storage accounts with customer-managed keys through the
// official clients (@azure/arm-msi 2.2.0 ManagedServiceIdentityClient, @azure/arm-storage 20.0.0
// StorageManagementClient), and a hub created with CMK through a user-assigned identity
// (@azure/arm-machinelearning AzureMachineLearningWorkspaces): the shapes azkv-cmk create-hub and
// check --hub rely on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { ManagedServiceIdentityClient } from "@azure/arm-msi";
import { StorageManagementClient } from "@azure/arm-storage";

import { POLL, RESOURCE_GROUP, SUBSCRIPTION, armCredential, armOptions } from "../lib/arm.mjs";
import { admin, assertRestError, unique } from "../lib/fidelity.mjs";

const GRANT = ["get", "wrapKey", "unwrapKey"];

/** A vault with purge protection (Storage and Foundry want it) and a 2048-bit key in it. */
async function cmkVault(prefix) {
  const vault = unique(prefix);
  await admin("POST", "/vaults", { name: vault, purge_protection: true });
  const key = await admin("POST", `/vaults/${vault}/keys`, { name: unique("cmk") });
  return { vault, keyName: key.key.kid.split("/")[4], kid: key.key.kid };
}

describe("user-assigned identities, storage CMK and hubs", () => {
  it("ManagedServiceIdentityClient creates, reads, lists and deletes a user-assigned identity", async () => {
    const client = new ManagedServiceIdentityClient(await armCredential(), SUBSCRIPTION, armOptions);
    const name = unique("uai");
    const made = await client.userAssignedIdentities.createOrUpdate(RESOURCE_GROUP, name, { location: "eastus" });
    assert.match(made.principalId, /^[0-9a-f-]{36}$/);
    assert.match(made.clientId, /^[0-9a-f-]{36}$/);
    assert.match(made.tenantId, /^[0-9a-f-]{36}$/);
    const got = await client.userAssignedIdentities.get(RESOURCE_GROUP, name);
    assert.equal(got.clientId, made.clientId);
    const listed = [];
    for await (const i of client.userAssignedIdentities.listByResourceGroup(RESOURCE_GROUP)) listed.push(i.name);
    assert.ok(listed.includes(name));
    await client.userAssignedIdentities.delete(RESOURCE_GROUP, name);
    await assertRestError(client.userAssignedIdentities.get(RESOURCE_GROUP, name),
      { statusCode: 404, code: "ResourceNotFound" });
  });

  it("StorageManagementClient sets a customer-managed key with a granted user-assigned identity", async () => {
    const cred = await armCredential();
    const msi = new ManagedServiceIdentityClient(cred, SUBSCRIPTION, armOptions);
    const storage = new StorageManagementClient(cred, SUBSCRIPTION, armOptions);
    const uai = await msi.userAssignedIdentities.createOrUpdate(RESOURCE_GROUP, unique("sa-uai"), { location: "eastus" });
    const { vault, keyName } = await cmkVault("sakv");
    const name = unique("sa").replace(/-/g, "").slice(0, 24);
    const params = {
      location: "eastus", kind: "StorageV2", sku: { name: "Standard_LRS" },
      identity: { type: "UserAssigned", userAssignedIdentities: { [uai.id]: {} } },
      encryption: { keySource: "Microsoft.Keyvault",
        keyVaultProperties: { keyName, keyVaultUri: `https://${vault}.vault.azure.net/` },
        encryptionIdentity: { encryptionUserAssignedIdentity: uai.id } },
    };
    // Not granted yet: Storage cannot reach the key.
    await assertRestError(storage.storageAccounts.create(RESOURCE_GROUP, name, params, POLL),
      { statusCode: 400, code: "KeyVaultAccessForbidden" });
    await admin("PUT", `/vaults/${vault}/access-policies/${uai.principalId}`, { keys: GRANT });
    const made = await storage.storageAccounts.create(RESOURCE_GROUP, name, params, POLL);
    assert.equal(made.encryption.keySource, "Microsoft.Keyvault");
    assert.equal(made.encryption.keyVaultProperties.keyName, keyName);
    assert.equal(made.encryption.encryptionIdentity.encryptionUserAssignedIdentity, uai.id);
    const read = await storage.storageAccounts.getProperties(RESOURCE_GROUP, name);
    assert.ok(read.encryption.keyVaultProperties.currentVersionedKeyIdentifier.includes(`/keys/${keyName}/`));
    const back = await storage.storageAccounts.update(RESOURCE_GROUP, name, { encryption: { keySource: "Microsoft.Storage" } });
    assert.equal(back.encryption.keySource, "Microsoft.Storage");
  });

  it("AzureMachineLearningWorkspaces creates a hub with CMK through a granted user-assigned identity", async () => {
    const cred = await armCredential();
    const msi = new ManagedServiceIdentityClient(cred, SUBSCRIPTION, armOptions);
    const ml = new AzureMachineLearningWorkspaces(cred, SUBSCRIPTION, armOptions);
    const uai = await msi.userAssignedIdentities.createOrUpdate(RESOURCE_GROUP, unique("hub-uai"), { location: "eastus" });
    const { vault, kid } = await cmkVault("hubkv");
    const vaultArmId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/${vault}`;
    const storageAccount = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Storage/storageAccounts/hubsa`;
    const hub = unique("hub");
    // The pinned client (api-version 2022-10-01) has no `kind`: the hub's kind is the REST
    // body's (tests/cmk/create.sh); its encryption identity and dependencies are these.
    const params = {
      location: "eastus", keyVault: vaultArmId, storageAccount,
      identity: { type: "UserAssigned", userAssignedIdentities: { [uai.id]: {} } },
      encryption: { status: "Enabled", identity: { userAssignedIdentity: uai.id },
        keyVaultProperties: { keyVaultArmId: vaultArmId, keyIdentifier: kid, identityClientId: uai.clientId } },
    };
    await assertRestError(ml.workspaces.beginCreateOrUpdateAndWait(RESOURCE_GROUP, hub, params, POLL),
      { statusCode: 400, code: "KeyVaultAccessForbidden" });
    await admin("PUT", `/vaults/${vault}/access-policies/${uai.principalId}`, { keys: GRANT });
    await ml.workspaces.beginCreateOrUpdateAndWait(RESOURCE_GROUP, hub, params, POLL);
    const ws = await ml.workspaces.get(RESOURCE_GROUP, hub);
    assert.equal(ws.encryption.status, "Enabled");
    assert.equal(ws.encryption.identity.userAssignedIdentity, uai.id);
    assert.equal(ws.storageAccount, storageAccount);
    assert.equal(ws.identity.userAssignedIdentities[uai.id].clientId, uai.clientId);
  });
});
