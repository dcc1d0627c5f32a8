// Private Link and deleted vaults through the official KeyVaultManagementClient
// (@azure/arm-keyvault, pinned): a vault's private endpoint connections (made
// pending by the emulator's admin API, as a private endpoint in Microsoft.Network
// would; approved, rejected, listed and deleted through the client), the vault's
// properties.privateEndpointConnections, and a deleted vault read back, listed,
// blocking its name, recovered and purged. Shapes: the Key Vault management REST
// spec 2023-07-01 as this client reads it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { KeyVaultManagementClient } from "@azure/arm-keyvault";

import { POLL, RESOURCE_GROUP, SUBSCRIPTION, armCredential, armOptions } from "../lib/arm.mjs";
import { admin, assertRestError, tenantId, unique } from "../lib/fidelity.mjs";

async function client() {
  return new KeyVaultManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
}

describe("ARM Private Link and deleted vaults", () => {
  it("KeyVaultManagementClient approves, rejects, lists and deletes a vault's private endpoint connections", async () => {
    const kv = await client();
    const name = unique("plink");
    await admin("POST", "/vaults", { name, purge_protection: true });
    await admin("POST", `/vaults/${name}/private-endpoint-connections`, { name: "pe-a" });
    const pending = await kv.privateEndpointConnections.get(RESOURCE_GROUP, name, "pe-a");
    assert.equal(pending.name, "pe-a");
    assert.equal(pending.type, "Microsoft.KeyVault/vaults/privateEndpointConnections");
    assert.equal(pending.privateLinkServiceConnectionState.status, "Pending");
    assert.match(pending.privateEndpoint.id, /\/providers\/Microsoft\.Network\/privateEndpoints\/pe-a$/);
    const approved = await kv.privateEndpointConnections.put(RESOURCE_GROUP, name, "pe-a", {
      etag: pending.etag,
      privateLinkServiceConnectionState: { status: "Approved", description: "approved for Foundry" },
    });
    assert.equal(approved.privateLinkServiceConnectionState.status, "Approved");
    assert.equal(approved.privateLinkServiceConnectionState.description, "approved for Foundry");
    assert.equal(approved.provisioningState, "Succeeded");
    assert.notEqual(approved.etag, pending.etag);
    await admin("POST", `/vaults/${name}/private-endpoint-connections`, { name: "pe-b" });
    await kv.privateEndpointConnections.put(RESOURCE_GROUP, name, "pe-b", {
      privateLinkServiceConnectionState: { status: "Rejected" },
    });
    const listed = [];
    for await (const c of kv.privateEndpointConnections.listByResource(RESOURCE_GROUP, name)) listed.push(c);
    assert.deepEqual(listed.map((c) => [c.name, c.privateLinkServiceConnectionState.status]),
      [["pe-a", "Approved"], ["pe-b", "Rejected"]]);
    const vault = await kv.vaults.get(RESOURCE_GROUP, name);
    assert.deepEqual(vault.properties.privateEndpointConnections.map((i) => [i.id.split("/").pop(), i.privateLinkServiceConnectionState.status]),
      [["pe-a", "Approved"], ["pe-b", "Rejected"]]);
    await kv.privateEndpointConnections.delete(RESOURCE_GROUP, name, "pe-b", POLL);
    await assertRestError(kv.privateEndpointConnections.get(RESOURCE_GROUP, name, "pe-b"),
      { statusCode: 404, code: "ResourceNotFound" });
    assert.equal((await kv.vaults.get(RESOURCE_GROUP, name)).properties.privateEndpointConnections.length, 1);
  });

  it("KeyVaultManagementClient reads a deleted vault back, is refused its name, recovers and purges", async () => {
    const kv = await client();
    const name = unique("gone");
    const create = (createMode) => kv.vaults.createOrUpdate(RESOURCE_GROUP, name, {
      location: "eastus",
      properties: { tenantId, sku: { family: "A", name: "standard" }, ...(createMode ? { createMode } : {}) },
    }, POLL);
    await create();
    await kv.vaults.delete(RESOURCE_GROUP, name);
    const deleted = await kv.vaults.getDeleted(name, "eastus");
    assert.equal(deleted.name, name);
    assert.equal(deleted.type, "Microsoft.KeyVault/deletedVaults");
    assert.equal(deleted.properties.vaultId, `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/${name}`);
    assert.equal(deleted.properties.purgeProtectionEnabled, false);
    assert.ok(deleted.properties.scheduledPurgeDate > deleted.properties.deletionDate);
    const names = [];
    for await (const v of kv.vaults.listDeleted()) names.push(v.name);
    assert.ok(names.includes(name));
    await assertRestError(create(), { statusCode: 409, code: "ConflictError" });
    const back = await create("recover");
    assert.equal(back.name, name);
    await kv.vaults.delete(RESOURCE_GROUP, name);
    await kv.vaults.purgeDeleted(name, "eastus", POLL);
    await assertRestError(kv.vaults.getDeleted(name, "eastus"), { statusCode: 404, code: "ResourceNotFound" });
  });
});
