// Audit and monitoring through the official ARM clients: a vault's diagnostic
// settings with MonitorClient (@azure/arm-monitor 7.0.0, api-version
// 2017-05-01-preview) and the vault's Event Grid system topic with an event
// subscription for Microsoft.KeyVault.KeyNearExpiry through
// EventGridManagementClient (@azure/arm-eventgrid 14.1.0, api-version
// 2022-06-15), with Azure's refusals coming back as RestErrors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { EventGridManagementClient } from "@azure/arm-eventgrid";
import { MonitorClient } from "@azure/arm-monitor";

import { POLL, RESOURCE_GROUP, SUBSCRIPTION, armCredential, armOptions } from "../lib/arm.mjs";
import { admin, assertRestError, unique } from "../lib/fidelity.mjs";

const LAW = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.OperationalInsights/workspaces/fidelity-law`;

/** A vault of its own (one system topic per source), and its ARM id. */
async function newVault(prefix) {
  const name = unique(prefix);
  await admin("POST", "/vaults", { name, purge_protection: true });
  return `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/${name}`;
}

describe("ARM audit and monitoring", () => {
  it("MonitorClient creates, gets, lists and deletes a vault's diagnostic setting", async () => {
    const client = new MonitorClient(await armCredential(), SUBSCRIPTION, armOptions);
    const vault = await newVault("diag");
    const created = await client.diagnosticSettings.createOrUpdate(vault, "to-law", {
      workspaceId: LAW, logs: [{ category: "AuditEvent", enabled: true }],
      metrics: [{ category: "AllMetrics", enabled: false }],
    });
    assert.equal(created.name, "to-law");
    assert.equal(created.workspaceId, LAW);
    assert.deepEqual(created.logs.map((l) => [l.category, l.enabled]), [["AuditEvent", true]]);
    const got = await client.diagnosticSettings.get(vault, "to-law");
    assert.equal(got.id.toLowerCase(), `${vault}/providers/microsoft.insights/diagnosticSettings/to-law`.toLowerCase());
    const listed = await client.diagnosticSettings.list(vault);
    assert.deepEqual(listed.value.map((s) => s.name), ["to-law"]);
    await client.diagnosticSettings.delete(vault, "to-law");
    assert.deepEqual((await client.diagnosticSettings.list(vault)).value, []);
    await assertRestError(client.diagnosticSettings.get(vault, "to-law"), { statusCode: 404, code: "ResourceNotFound" });
  });

  it("MonitorClient gets Azure's refusals: no destination, an unknown category, a reused sink", async () => {
    const client = new MonitorClient(await armCredential(), SUBSCRIPTION, armOptions);
    const vault = await newVault("diag-bad");
    await assertRestError(client.diagnosticSettings.createOrUpdate(vault, "nowhere", {
      logs: [{ category: "AuditEvent", enabled: true }],
    }), { statusCode: 400, code: "BadRequest" });
    await assertRestError(client.diagnosticSettings.createOrUpdate(vault, "bad", {
      workspaceId: LAW, logs: [{ category: "WorkflowRuntime", enabled: true }],
    }), { statusCode: 400, code: "BadRequest", message: /^Category 'WorkflowRuntime' is not supported\.$/ });
    await client.diagnosticSettings.createOrUpdate(vault, "first", {
      workspaceId: LAW, logs: [{ category: "AuditEvent", enabled: true }],
    });
    await assertRestError(client.diagnosticSettings.createOrUpdate(vault, "second", {
      workspaceId: LAW, logs: [{ category: "AuditEvent", enabled: true }],
    }), { statusCode: 409, code: "Conflict" });
  });

  it("EventGridManagementClient creates the vault's system topic and a KeyNearExpiry subscription", async () => {
    const client = new EventGridManagementClient(await armCredential(), SUBSCRIPTION, armOptions);
    const vault = await newVault("eg");
    const topicName = unique("kv-events");
    const topic = await client.systemTopics.beginCreateOrUpdateAndWait(RESOURCE_GROUP, topicName, {
      location: "eastus", source: vault, topicType: "Microsoft.KeyVault.vaults",
    }, POLL);
    assert.equal(topic.provisioningState, "Succeeded");
    assert.equal(topic.source, vault);
    const got = await client.systemTopics.get(RESOURCE_GROUP, topicName);
    assert.equal(got.topicType, "Microsoft.KeyVault.vaults");
    assert.ok(got.metricResourceId);
    // One system topic per source.
    await assertRestError(client.systemTopics.beginCreateOrUpdateAndWait(RESOURCE_GROUP, unique("again"), {
      location: "eastus", source: vault, topicType: "Microsoft.KeyVault.vaults",
    }, POLL), { statusCode: 400, code: "InvalidRequest" });

    const sub = await client.systemTopicEventSubscriptions.beginCreateOrUpdateAndWait(
      RESOURCE_GROUP, topicName, "key-near-expiry", {
        destination: { endpointType: "WebHook", endpointUrl: "https://ops.example/hook?code=x" },
        filter: { includedEventTypes: ["Microsoft.KeyVault.KeyNearExpiry"] },
      }, POLL);
    assert.equal(sub.provisioningState, "Succeeded");
    assert.equal(sub.destination.endpointType, "WebHook");
    assert.equal(sub.destination.endpointBaseUrl, "https://ops.example/hook");
    const subs = [];
    for await (const s of client.systemTopicEventSubscriptions.listBySystemTopic(RESOURCE_GROUP, topicName)) {
      subs.push(s);
    }
    assert.deepEqual(subs.map((s) => [s.name, s.filter.includedEventTypes]),
      [["key-near-expiry", ["Microsoft.KeyVault.KeyNearExpiry"]]]);
    await assertRestError(client.systemTopicEventSubscriptions.beginCreateOrUpdateAndWait(
      RESOURCE_GROUP, topicName, "blobs", {
        destination: { endpointType: "WebHook", endpointUrl: "https://ops.example/hook" },
        filter: { includedEventTypes: ["Microsoft.Storage.BlobCreated"] },
      }, POLL), { statusCode: 400, code: "InvalidRequest" });
  });
});
