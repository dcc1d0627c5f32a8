// Foundry projects (Microsoft.CognitiveServices/accounts/{a}/projects/{p}) through the
// official client's Projects operation group (@azure/arm-cognitiveservices 8.1.0 has
// it: create, get, list, update, delete as long-running operations where the REST spec
// stable/2025-06-01 makes them so). A project has its own managed identity; an account
// must allow project management (properties.allowProjectManagement) to hold projects.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";

import { POLL, RESOURCE_GROUP, SUBSCRIPTION, armCredential, armOptions } from "../lib/arm.mjs";
import { assertRestError, unique } from "../lib/fidelity.mjs";

async function newAccount(client, allowProjectManagement) {
  const name = unique("foundry");
  return client.accounts.beginCreateAndWait(RESOURCE_GROUP, name, {
    location: "eastus", kind: "AIServices", sku: { name: "S0" }, identity: { type: "SystemAssigned" },
    properties: { customSubDomainName: name, allowProjectManagement },
  }, POLL);
}

describe("ARM Foundry projects", () => {
  it("CognitiveServicesManagementClient: projects create, get, list, update and delete", async () => {
    const client = new CognitiveServicesManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const account = await newAccount(client, true);
    assert.equal(account.properties.allowProjectManagement, true);
    const created = await client.projects.beginCreateAndWait(RESOURCE_GROUP, account.name, "proj-a", {
      location: "eastus", identity: { type: "SystemAssigned" },
      properties: { displayName: "Project A", description: "first" },
    }, POLL);
    assert.equal(created.type, "Microsoft.CognitiveServices/accounts/projects");
    assert.equal(created.properties.provisioningState, "Succeeded");
    assert.equal(created.properties.isDefault, true);
    assert.ok(created.identity.principalId);
    assert.notEqual(created.identity.principalId, account.identity.principalId);
    await client.projects.beginCreateAndWait(RESOURCE_GROUP, account.name, "proj-b", { properties: {} }, POLL);

    const got = await client.projects.get(RESOURCE_GROUP, account.name, "proj-a");
    assert.equal(got.properties.displayName, "Project A");
    assert.equal(got.location, "eastus");
    const names = [];
    for await (const p of client.projects.list(RESOURCE_GROUP, account.name)) names.push(p.name);
    assert.deepEqual(names, ["proj-a", "proj-b"]);
    const parent = await client.accounts.get(RESOURCE_GROUP, account.name);
    assert.deepEqual(parent.properties.associatedProjects, ["proj-a", "proj-b"]);
    assert.equal(parent.properties.defaultProject, "proj-a");

    const updated = await client.projects.beginUpdateAndWait(RESOURCE_GROUP, account.name, "proj-b", {
      identity: { type: "SystemAssigned" }, properties: { description: "second" },
    }, POLL);
    assert.equal(updated.properties.description, "second");
    assert.ok(updated.identity.principalId);

    await client.projects.beginDeleteAndWait(RESOURCE_GROUP, account.name, "proj-a", POLL);
    await assertRestError(client.projects.get(RESOURCE_GROUP, account.name, "proj-a"),
      { statusCode: 404, code: "ResourceNotFound" });
  });

  it("CognitiveServicesManagementClient: projects are refused without the account or project management", async () => {
    const client = new CognitiveServicesManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    await assertRestError(
      client.projects.beginCreateAndWait(RESOURCE_GROUP, unique("nosuch"), "p1", { properties: {} }, POLL),
      { statusCode: 404, code: "ParentResourceNotFound" });
    const plain = await newAccount(client, false);
    await assertRestError(
      client.projects.beginCreateAndWait(RESOURCE_GROUP, plain.name, "p1", { properties: {} }, POLL),
      { statusCode: 400, code: "BadRequest", message: /allowProjectManagement/ });
  });
});
