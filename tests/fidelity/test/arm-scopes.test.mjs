// ARM scopes through the official clients: vault listing per subscription and
// resource group (page by page), role assignments at resource-group scope
// inherited by a vault's keys, and the control-plane RBAC of the caller
// (AuthorizationFailed) when the emulator checks it.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";

import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { KeyVaultManagementClient } from "@azure/arm-keyvault";

import {
  CSEU, POLL, READER, RESOURCE_GROUP, SUBSCRIPTION, armCredential, armOptions, newKey, roundTrip, vaultId,
  withArmRbac,
} from "../lib/arm.mjs";
import {
  admin, assertRestError, credentialFor, newIdentity, tenantId, unique, vaultName,
} from "../lib/fidelity.mjs";

const rgScope = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}`;
const roleDefinitionId = (role) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${role}`;

async function names(iterator) {
  const out = [];
  for await (const item of iterator) {
    out.push(item.name);
  }
  return out;
}

describe("ARM scopes", () => {
  it("KeyVaultManagementClient lists vaults by subscription and by resource group, page by page with top", async () => {
    const client = new KeyVaultManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const otherGroup = unique("rg-fidelity");
    const name = unique("list");
    const created = await client.vaults.beginCreateOrUpdateAndWait(otherGroup, name, {
      location: "eastus",
      properties: { tenantId, sku: { family: "A", name: "standard" }, accessPolicies: [] },
    }, POLL);
    assert.equal(created.id, `/subscriptions/${SUBSCRIPTION}/resourceGroups/${otherGroup}/providers/Microsoft.KeyVault/vaults/${name}`);
    assert.deepEqual(await names(client.vaults.listByResourceGroup(otherGroup)), [name]);
    const inRg = await names(client.vaults.listByResourceGroup(RESOURCE_GROUP));
    assert.ok(inRg.includes(vaultName) && !inRg.includes(name));
    const all = await names(client.vaults.listBySubscription());
    assert.ok(all.includes(vaultName) && all.includes(name));
    // $top=1: the first page holds one vault, the SDK follows nextLink for the rest.
    const pages = [];
    for await (const page of client.vaults.listBySubscription({ top: 1 }).byPage()) {
      pages.push(page.map((v) => v.name));
    }
    assert.ok(pages.length > 1);
    assert.equal(pages[0].length, 1);
    assert.deepEqual(pages.flat(), all);
  });

  it("AuthorizationManagementClient creates, gets and deletes a role assignment at resource-group scope, inherited by the vault's keys", async () => {
    const client = new AuthorizationManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const key = await newKey("arm-rg");
    const foundry = await newIdentity("arm-rg-foundry");
    await admin("PATCH", `/vaults/${vaultName}`, { rbac: true });
    try {
      await assertRestError(roundTrip(key, foundry), { statusCode: 403, code: "Forbidden" });
      const name = randomUUID();
      const created = await client.roleAssignments.create(rgScope, name, {
        roleDefinitionId: roleDefinitionId(CSEU), principalId: foundry.object_id, principalType: "ServicePrincipal",
      });
      assert.equal(created.id, `${rgScope}/providers/Microsoft.Authorization/roleAssignments/${name}`);
      assert.equal(created.scope, rgScope);
      const got = await client.roleAssignments.get(rgScope, name);
      assert.equal(got.principalId, foundry.object_id);
      assert.equal(got.roleDefinitionId, roleDefinitionId(CSEU));
      await roundTrip(key, foundry); // granted two levels above the key
      const inherited = await names(client.roleAssignments.listForScope(`${vaultId}/keys/${key.name}`,
        { filter: `principalId eq '${foundry.object_id}'` }));
      assert.deepEqual(inherited, [name]);
      const deleted = await client.roleAssignments.delete(rgScope, name);
      assert.equal(deleted.name, name);
      await assertRestError(client.roleAssignments.get(rgScope, name), { statusCode: 404, code: "RoleAssignmentNotFound" });
      await assertRestError(roundTrip(key, foundry), { statusCode: 403, code: "Forbidden" });
    } finally {
      await admin("PATCH", `/vaults/${vaultName}`, { rbac: false });
    }
  });

  it("with ARM RBAC on, the SDKs surface AuthorizationFailed as a RestError with statusCode 403", async () => {
    await withArmRbac(async () => {
      const reader = await newIdentity("arm-reader");
      const credential = credentialFor(reader);
      const keyVault = new KeyVaultManagementClient(credential, SUBSCRIPTION, armOptions);
      const authorization = new AuthorizationManagementClient(credential, SUBSCRIPTION, armOptions);
      const refusal = (action, scope) => ({
        statusCode: 403, code: "AuthorizationFailed",
        message: new RegExp(`^The client '${reader.object_id}' with object id '${reader.object_id}' does not have `
          + `authorization to perform action '${action}' over scope '${scope}' or the scope is invalid\\. `
          + "If access was recently granted, please refresh your credentials\\.$"),
      });
      await assertRestError(keyVault.vaults.get(RESOURCE_GROUP, vaultName),
        refusal("Microsoft.KeyVault/vaults/read", vaultId));
      // Reader at the resource group: reads, but neither writes nor grants.
      await admin("POST", "/role-assignments", { scope: rgScope, identity: reader.client_id, role: "Reader" });
      assert.equal((await keyVault.vaults.get(RESOURCE_GROUP, vaultName)).id, vaultId);
      await assertRestError(keyVault.vaults.update(RESOURCE_GROUP, vaultName, { tags: { by: "reader" } }),
        refusal("Microsoft.KeyVault/vaults/write", vaultId));
      const assignment = `${vaultId}/providers/Microsoft.Authorization/roleAssignments/`;
      const name = randomUUID();
      await assertRestError(authorization.roleAssignments.create(vaultId, name, {
        roleDefinitionId: roleDefinitionId(READER), principalId: reader.object_id,
      }), refusal("Microsoft.Authorization/roleAssignments/write", assignment + name));
    });
  });
});
