// Azure Resource Manager clients against the emulated control plane
// (tests/emulator/azkvemu/arm.py), built as a user builds them for another
// ARM endpoint (lib/arm.mjs).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";

import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { KeyVaultManagementClient } from "@azure/arm-keyvault";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";

import {
  CSEU, POLL, RESOURCE_GROUP, SUBSCRIPTION, armCredential, armOptions, newKey, roundTrip, vaultId,
} from "../lib/arm.mjs";
import {
  admin, assertRestError, credentialFor, emulator, newIdentity, tenantId, unique, vaultName,
} from "../lib/fidelity.mjs";

describe("ARM clients", () => {
  it("the pinned ARM packages load on this Node and build clients aimed at the emulator", () => {
    const credential = credentialFor({ tenant_id: emulator.default_tenant, client_id: "unused", client_secret: "unused" });
    const keyVault = new KeyVaultManagementClient(credential, SUBSCRIPTION, armOptions);
    assert.equal(typeof keyVault.vaults.get, "function");
    assert.equal(typeof keyVault.vaults.updateAccessPolicy, "function");
    const authorization = new AuthorizationManagementClient(credential, SUBSCRIPTION, armOptions);
    assert.equal(typeof authorization.roleAssignments.create, "function");
    const cognitive = new CognitiveServicesManagementClient(credential, SUBSCRIPTION, armOptions);
    assert.equal(typeof cognitive.accounts.beginUpdateAndWait, "function");
    const ml = new AzureMachineLearningWorkspaces(credential, SUBSCRIPTION, armOptions);
    assert.equal(typeof ml.workspaces.get, "function");
  });

  it("KeyVaultManagementClient gets a vault and its properties (soft delete, purge protection, RBAC, tenant)", async () => {
    const client = new KeyVaultManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const vault = await client.vaults.get(RESOURCE_GROUP, vaultName);
    assert.equal(vault.id, vaultId);
    assert.equal(vault.name, vaultName);
    assert.equal(vault.type, "Microsoft.KeyVault/vaults");
    assert.equal(vault.location, "eastus");
    assert.equal(vault.properties.tenantId, tenantId);
    assert.equal(vault.properties.sku.name, "premium");
    assert.equal(vault.properties.enableSoftDelete, true);
    assert.equal(vault.properties.softDeleteRetentionInDays, 90);
    assert.equal(vault.properties.enablePurgeProtection, undefined); // omitted until turned on, as in Azure
    assert.equal(vault.properties.enableRbacAuthorization, false);
    assert.equal(vault.properties.vaultUri, `https://${vaultName}.vault.azure.net/`);
    assert.equal(vault.properties.networkAcls.bypass, "AzureServices");
    assert.equal(vault.properties.networkAcls.defaultAction, "Allow");
    assert.ok(Array.isArray(vault.properties.accessPolicies));
    await assertRestError(client.vaults.get(RESOURCE_GROUP, "no-such-vault"), {
      statusCode: 404, code: "ResourceNotFound",
    });
  });

  it("KeyVaultManagementClient adds an access policy with get, wrapKey and unwrapKey for an identity", async () => {
    const client = new KeyVaultManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const key = await newKey("arm-ap");
    const foundry = await newIdentity("arm-ap-foundry");
    const policy = (keys) => ({
      properties: { accessPolicies: [{ tenantId, objectId: foundry.object_id, permissions: { keys } }] },
    });
    await assertRestError(roundTrip(key, foundry), { statusCode: 403, code: "Forbidden" });
    const added = await client.vaults.updateAccessPolicy(RESOURCE_GROUP, vaultName, "add",
      policy(["get", "wrapKey", "unwrapKey"]));
    assert.deepEqual(added.properties.accessPolicies[0].permissions.keys, ["get", "wrapKey", "unwrapKey"]);
    const vault = await client.vaults.get(RESOURCE_GROUP, vaultName);
    const mine = vault.properties.accessPolicies.find((p) => p.objectId === foundry.object_id);
    assert.deepEqual(mine.permissions.keys, ["get", "wrapKey", "unwrapKey"]);
    await roundTrip(key, foundry);
    await client.vaults.updateAccessPolicy(RESOURCE_GROUP, vaultName, "remove", policy(["get", "wrapKey", "unwrapKey"]));
    const after = await client.vaults.get(RESOURCE_GROUP, vaultName);
    assert.equal(after.properties.accessPolicies.find((p) => p.objectId === foundry.object_id), undefined);
    await assertRestError(roundTrip(key, foundry), { statusCode: 403, code: "Forbidden" });
  });

  it("AuthorizationManagementClient creates a Key Vault Crypto Service Encryption User role assignment at key scope", async () => {
    const client = new AuthorizationManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const key = await newKey("arm-rbac");
    const foundry = await newIdentity("arm-rbac-foundry");
    const scope = `${vaultId}/keys/${key.name}`;
    const definition = await client.roleDefinitions.get(scope, CSEU);
    assert.equal(definition.roleName, "Key Vault Crypto Service Encryption User");
    assert.equal(definition.roleType, "BuiltInRole");
    assert.deepEqual(definition.permissions[0].dataActions, [
      "Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action",
      "Microsoft.KeyVault/vaults/keys/unwrap/action"]);
    await admin("PATCH", `/vaults/${vaultName}`, { rbac: true });
    try {
      const name = randomUUID();
      const created = await client.roleAssignments.create(scope, name, {
        roleDefinitionId: definition.id, principalId: foundry.object_id, principalType: "ServicePrincipal",
      });
      assert.equal(created.name, name);
      assert.equal(created.scope, scope);
      assert.equal(created.principalId, foundry.object_id);
      assert.equal(created.roleDefinitionId, `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${CSEU}`);
      await roundTrip(key, foundry);
      const listed = [];
      for await (const a of client.roleAssignments.listForScope(vaultId, { filter: `principalId eq '${foundry.object_id}'` })) {
        listed.push(a.name);
      }
      assert.deepEqual(listed, [name]);
      const atScope = [];
      for await (const a of client.roleAssignments.listForScope(vaultId, { filter: "atScope()" })) {
        atScope.push(a.name);
      }
      assert.ok(!atScope.includes(name), "a key-scope assignment is below the vault scope");
      await assertRestError(client.roleAssignments.create(scope, randomUUID(), {
        roleDefinitionId: definition.id, principalId: foundry.object_id,
      }), { statusCode: 409, code: "RoleAssignmentExists" });
      await client.roleAssignments.delete(scope, name);
      await assertRestError(roundTrip(key, foundry), { statusCode: 403, code: "Forbidden" });
    } finally {
      await admin("PATCH", `/vaults/${vaultName}`, { rbac: false });
    }
  });

  it("CognitiveServicesManagementClient sets an account's encryption to the vault key and waits for the long-running operation", async () => {
    const credential = await armCredential();
    const client = new CognitiveServicesManagementClient(credential, SUBSCRIPTION, armOptions);
    // Foundry needs a vault with soft delete and purge protection (the shared vault has
    // purge protection off so that the purge tests can run): a vault of its own.
    const cmkVault = unique("cmkkv");
    await admin("POST", "/vaults", { name: cmkVault, purge_protection: true });
    const key = await admin("POST", `/vaults/${cmkVault}/keys`, { name: unique("arm-cs") });
    const keyVersion = key.key.kid.split("/").pop();
    const name = unique("foundry");
    const account = await client.accounts.beginCreateAndWait(RESOURCE_GROUP, name, {
      location: "eastus", kind: "AIServices", sku: { name: "S0" }, identity: { type: "SystemAssigned" },
      properties: { customSubDomainName: name },
    }, POLL);
    assert.equal(account.identity.type, "SystemAssigned");
    assert.match(account.identity.principalId, /^[0-9a-f-]{36}$/);
    assert.equal(account.identity.tenantId, tenantId);
    const keyVaultProperties = {
      keyName: key.key.kid.split("/")[4], keyVersion, keyVaultUri: `https://${cmkVault}.vault.azure.net/`,
    };
    // Binding before the identity may use the key is refused (the chicken-and-egg order).
    await assertRestError(client.accounts.beginUpdateAndWait(RESOURCE_GROUP, name, {
      properties: { encryption: { keySource: "Microsoft.KeyVault", keyVaultProperties } },
    }, POLL), { statusCode: 400, code: "KeyVaultAccessForbidden" });
    const keyVault = new KeyVaultManagementClient(credential, SUBSCRIPTION, armOptions);
    await keyVault.vaults.updateAccessPolicy(RESOURCE_GROUP, cmkVault, "add", {
      properties: { accessPolicies: [{
        tenantId, objectId: account.identity.principalId, permissions: { keys: ["get", "wrapKey", "unwrapKey"] },
      }] },
    });
    const updated = await client.accounts.beginUpdateAndWait(RESOURCE_GROUP, name, {
      properties: { encryption: { keySource: "Microsoft.KeyVault", keyVaultProperties } },
    }, POLL);
    assert.equal(updated.properties.provisioningState, "Succeeded");
    assert.deepEqual(updated.properties.encryption, { keySource: "Microsoft.KeyVault", keyVaultProperties });
    const got = await client.accounts.get(RESOURCE_GROUP, name);
    assert.deepEqual(got.properties.encryption.keyVaultProperties, keyVaultProperties);
    // Foundry refuses going back to Microsoft-managed keys.
    await assertRestError(client.accounts.beginUpdateAndWait(RESOURCE_GROUP, name, {
      properties: { encryption: { keySource: "Microsoft.CognitiveServices" } },
    }, POLL), { statusCode: 400, code: "CustomerManagedKeyCannotBeReverted" });
  });

  it("AzureMachineLearningWorkspaces reads a workspace's encryption (key identifier, identity)", async () => {
    const client = new AzureMachineLearningWorkspaces(await armCredential(), SUBSCRIPTION, armOptions);
    // A vault the binding accepts (purge protection, as for an account) and a key in it.
    const kv = unique("arm-ml");
    await admin("POST", "/vaults", { name: kv, purge_protection: true });
    const key = { id: (await admin("POST", `/vaults/${kv}/keys`, { name: unique("arm-ml") })).key.kid };
    const kvId = vaultId.replace(vaultName, kv);
    const name = unique("hub");
    const uai = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}-uai`;
    // The encryption identity must hold get, wrapKey and unwrapKey on the key first.
    const mi = await admin("POST", "/identities", { name: `${name}-uai`, managed: true });
    await admin("PUT", `/vaults/${kv}/access-policies/${mi.object_id}`, { keys: ["get", "wrapKey", "unwrapKey"] });
    await admin("POST", "/workspaces", {
      name,
      encryption: {
        status: "Enabled",
        keyVaultProperties: { keyVaultArmId: kvId, keyIdentifier: key.id },
        identity: { userAssignedIdentity: uai },
      },
    });
    const ws = await client.workspaces.get(RESOURCE_GROUP, name);
    assert.equal(ws.name, name);
    assert.equal(ws.encryption.status, "Enabled");
    assert.equal(ws.encryption.keyVaultProperties.keyVaultArmId, kvId);
    assert.equal(ws.encryption.keyVaultProperties.keyIdentifier, key.id);
    assert.equal(ws.encryption.identity.userAssignedIdentity, uai);
  });
});
