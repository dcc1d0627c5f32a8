#!/usr/bin/python3
"""Audit and monitoring on the emulated ARM: a vault's diagnostic settings
(Microsoft.Insights/diagnosticSettings, REST spec 2021-05-01-preview
diagnosticsSettings_API.json, and 2017-05-01-preview as @azure/arm-monitor 7.0.0 sends it)
and Event Grid system topics with event subscriptions (@azure/arm-eventgrid 14.1.0,
api-version 2022-06-15). The refusals and their sources are listed in arm_monitor.py and
arm_eventgrid.py."""

import unittest

from emutest import ARM, ARM_SCOPE, RG, SUB, Emulator, vault_path

EMU = None
W = {}
DIAG_API = "2021-05-01-preview"
EG_API = "2022-06-15"
LAW = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/lab-law"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/labaudit"
TOPICS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.EventGrid/systemTopics"


def setUpModule():
    global EMU
    EMU = Emulator().start()
    W["admin"] = EMU.admin("add-identity", "--name", "monitor-admin")
    for name in ("monkv", "monkv2", "monkv3"):
        EMU.admin("add-vault", "--name", name, "--purge-protection")
    W["tok"] = EMU.token(W["admin"], scope=ARM_SCOPE)


def tearDownModule():
    if EMU:
        EMU.cleanup()


def arm(method, path, body=None, api=DIAG_API):
    return EMU.request(method, f"{ARM}{path}?api-version={api}", body=body, token=W["tok"])


def diag(vault, name=None):
    return f"{vault_path(vault)}/providers/Microsoft.Insights/diagnosticSettings" + (f"/{name}" if name else "")


def audit_to(dest=LAW, key="workspaceId", logs=None):
    return {"properties": {key: dest, "logs": logs if logs is not None else [{"categoryGroup": "audit", "enabled": True}]}}


class DiagnosticSettingTests(unittest.TestCase):
    def test_put_get_list_delete(self):
        r = arm("PUT", diag("monkv", "to-law"), audit_to())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["type"], "Microsoft.Insights/diagnosticSettings")
        self.assertTrue(r.json["id"].lower().endswith("/providers/microsoft.insights/diagnosticsettings/to-law"))
        self.assertEqual(r.json["properties"]["logs"], [{"categoryGroup": "audit", "enabled": True}])
        self.assertEqual(arm("GET", diag("monkv", "to-law")).json["properties"]["workspaceId"], LAW)
        names = [s["name"] for s in arm("GET", diag("monkv")).json["value"]]
        self.assertEqual(names, ["to-law"])
        self.assertEqual(arm("DELETE", diag("monkv", "to-law")).status, 200)
        self.assertEqual(arm("DELETE", diag("monkv", "to-law")).status, 204)
        self.assertEqual(arm("GET", diag("monkv", "to-law")).status, 404)
        self.assertEqual(arm("GET", diag("monkv")).json["value"], [])

    def test_no_destination_refused(self):
        r = arm("PUT", diag("monkv", "nowhere"), {"properties": {"logs": [{"category": "AuditEvent", "enabled": True}]}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "BadRequest")
        self.assertIn("destination", r.json["error"]["message"])

    def test_unknown_category_refused_with_azures_words(self):
        r = arm("PUT", diag("monkv", "bad"), audit_to(logs=[{"category": "WorkflowRuntime", "enabled": True}]))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["message"], "Category 'WorkflowRuntime' is not supported.")
        r = arm("PUT", diag("monkv", "bad"), audit_to(logs=[{"categoryGroup": "everything", "enabled": True}]))
        self.assertEqual(r.status, 400, r)
        r = arm("PUT", diag("monkv", "bad"), {"properties": {"workspaceId": LAW, "metrics": [
            {"category": "Gateway Requests", "enabled": True}]}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("supported categories are: 'AllMetrics'", r.json["error"]["message"])

    def test_destination_of_the_wrong_type_refused(self):
        for key, dest in (("workspaceId", STORAGE), ("storageAccountId", LAW), ("eventHubAuthorizationRuleId", LAW),
                          ("workspaceId", "lab-law")):
            r = arm("PUT", diag("monkv", "bad"), audit_to(dest, key))
            self.assertEqual(r.status, 400, (key, dest, r))
            self.assertEqual(r.json["error"]["code"], "LinkedInvalidPropertyId")

    def test_same_sink_same_category_conflicts(self):
        self.assertEqual(arm("PUT", diag("monkv2", "first"), audit_to(STORAGE, "storageAccountId")).status, 200)
        # allLogs carries AuditEvent, which "first" already sends to that storage account.
        r = arm("PUT", diag("monkv2", "second"), audit_to(STORAGE, "storageAccountId",
                                                          [{"categoryGroup": "allLogs", "enabled": True}]))
        self.assertEqual(r.status, 409, r)
        self.assertIn("Data sinks can't be reused", r.json["error"]["message"])
        # Another destination is fine; so is updating the same setting.
        self.assertEqual(arm("PUT", diag("monkv2", "second"), audit_to()).status, 200)
        self.assertEqual(arm("PUT", diag("monkv2", "first"), audit_to(STORAGE, "storageAccountId")).status, 200)

    def test_arm_monitor_7_api_version_has_no_category_groups(self):
        arm("PUT", diag("monkv3", "both"), audit_to(logs=[{"categoryGroup": "audit", "enabled": True},
                                                          {"category": "AzurePolicyEvaluationDetails", "enabled": False}]))
        r = arm("GET", diag("monkv3", "both"), api="2017-05-01-preview")
        self.assertEqual(r.json["properties"]["logs"], [{"category": "AzurePolicyEvaluationDetails", "enabled": False}])
        self.assertEqual(arm("GET", diag("monkv3", "both"), api="2016-09-01").status, 400)

    def test_missing_vault_is_not_found(self):
        self.assertEqual(arm("PUT", diag("nosuchkv", "x"), audit_to()).status, 404)


class EventGridTests(unittest.TestCase):
    def topic(self, name, vault, location="eastus"):
        return arm("PUT", f"{TOPICS}/{name}", {"location": location, "properties": {
            "source": vault_path(vault), "topicType": "Microsoft.KeyVault.vaults"}}, api=EG_API)

    def test_system_topic_and_near_expiry_subscription(self):
        r = self.topic("monkv-events", "monkv")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["properties"]["provisioningState"], "Succeeded")
        self.assertEqual(self.topic("monkv-events", "monkv").status, 200)
        listed = arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.EventGrid/systemTopics", api=EG_API).json
        self.assertIn("monkv-events", [t["name"] for t in listed["value"]])
        sub = {"properties": {"destination": {"endpointType": "WebHook", "properties": {
            "endpointUrl": "https://ops.example/hook?code=secret"}},
            "filter": {"includedEventTypes": ["Microsoft.KeyVault.KeyNearExpiry"]}}}
        r = arm("PUT", f"{TOPICS}/monkv-events/eventSubscriptions/near-expiry", sub, api=EG_API)
        self.assertEqual(r.status, 201, r)
        dest = r.json["properties"]["destination"]["properties"]
        self.assertEqual(dest, {"endpointBaseUrl": "https://ops.example/hook"})   # the URL is write-only
        subs = arm("GET", f"{TOPICS}/monkv-events/eventSubscriptions", api=EG_API).json["value"]
        self.assertEqual(subs[0]["properties"]["filter"]["includedEventTypes"], ["Microsoft.KeyVault.KeyNearExpiry"])
        self.assertEqual(subs[0]["properties"]["topic"].lower(), vault_path("monkv").lower())

    def test_one_system_topic_per_source(self):
        self.assertEqual(self.topic("monkv2-events", "monkv2").status, 201)
        r = self.topic("monkv2-again", "monkv2")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "InvalidRequest")
        self.assertIn("Only one system topic is allowed per source", r.json["error"]["message"])
        r = self.topic("monkv2-events", "monkv3")
        self.assertEqual(r.json["error"]["message"], "System topic source cannot be modified.")

    def test_refusals(self):
        r = arm("PUT", f"{TOPICS}/wrong-type", {"location": "eastus", "properties": {
            "source": vault_path("monkv3"), "topicType": "Microsoft.Storage.StorageAccounts"}}, api=EG_API)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.topic("no-vault", "nosuchkv").status, 404)
        self.assertEqual(self.topic("monkv3-events", "monkv3").status, 201)
        bad_type = {"properties": {"destination": {"endpointType": "StorageQueue", "properties": {}},
                                   "filter": {"includedEventTypes": ["Microsoft.Storage.BlobCreated"]}}}
        r = arm("PUT", f"{TOPICS}/monkv3-events/eventSubscriptions/x", bad_type, api=EG_API)
        self.assertEqual(r.status, 400, r)
        self.assertIn("Microsoft.KeyVault.KeyNearExpiry", r.json["error"]["message"])
        r = arm("PUT", f"{TOPICS}/monkv3-events/eventSubscriptions/x", {"properties": {}}, api=EG_API)
        self.assertEqual(r.status, 400, r)
        r = arm("PUT", f"{TOPICS}/nosuch/eventSubscriptions/x", bad_type, api=EG_API)
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    unittest.main()
