"""Microsoft.Insights/diagnosticSettings on the emulated ARM: an extension resource of a
Key Vault vault, a Cognitive Services account or an ML workspace, saying where the
resource's logs go (a Log Analytics workspace, a storage account, an event hub).

  {resource id}/providers/Microsoft.Insights/diagnosticSettings/{name}  PUT, GET, DELETE
  {resource id}/providers/Microsoft.Insights/diagnosticSettings         GET (list)

Shapes from the REST spec, azure-rest-api-specs specification/monitor/resource-manager/
Microsoft.Insights/preview/2021-05-01-preview/diagnosticsSettings_API.json (logs[] with
`category` or `categoryGroup`), and @azure/arm-monitor 7.0.0, which still sends
2017-05-01-preview (no categoryGroup in that contract: the emulator drops it there, as an RP
drops a property its api-version does not have). The log categories and groups of a vault
are Azure Monitor's "Supported logs for Microsoft.KeyVault/vaults" (AuditEvent,
AzurePolicyEvaluationDetails; groups audit and allLogs).

Refusals, with Azure's codes and words where they are known:
  - a log or metric category the resource type lacks: 400 BadRequest "Category 'X' is not
    supported." and "Metric category 'X' is not supported, supported categories are:
    'AllMetrics'" (the texts Azure answers, quoted in hashicorp/terraform#20534 and
    TaoYang-Cloud/azurepolicy#19);
  - a destination id that is not a full ARM id of its type: 400 LinkedInvalidPropertyId,
    ARM's wording for a malformed linked id;
  - the same destination for the same category in two settings of one resource: 409
    Conflict "Data sink '...' is already used in diagnostic setting '...' for category
    '...'. Data sinks can't be reused in different settings on the same category for the
    same resource." (as quoted in several public issue threads);
  - no destination at all: 400 BadRequest (Azure refuses it; the wording is the emulator's).
The destinations are not looked up (the emulator has no Log Analytics, Storage or Event Hubs):
a well-formed id of the right type is taken as it is. A GET of a setting that does not exist is
404 ResourceNotFound (the wording is the emulator's).
"""

import re

from .arm_resources import (ACCOUNTS, WORKSPACES, accounts, api_version, find_resource, find_vault,
                            not_found, workspaces)
from .httpmsg import Response, ServiceError, bad_request, json_response
from .util import now_iso

API_VERSIONS = ("2017-05-01-preview", "2021-05-01-preview")
_CATEGORY_GROUPS_FROM = "2021-05-01-preview"

# Log categories and category groups per resource type (Azure Monitor's supported-logs
# pages); a group names the categories it carries.
_LOGS = {
    "microsoft.keyvault/vaults": {
        "categories": ["AuditEvent", "AzurePolicyEvaluationDetails"],
        "groups": {"audit": ["AuditEvent"], "allLogs": ["AuditEvent", "AzurePolicyEvaluationDetails"]},
    },
    "microsoft.cognitiveservices/accounts": {
        "categories": ["Audit", "RequestResponse", "Trace", "AzureOpenAIRequestUsage"],
        "groups": {"audit": ["Audit"], "allLogs": ["Audit", "RequestResponse", "Trace", "AzureOpenAIRequestUsage"]},
    },
    "microsoft.machinelearningservices/workspaces": {
        "categories": ["AmlComputeClusterEvent", "AmlComputeJobEvent", "AmlRunStatusChangedEvent"],
        "groups": {"audit": [], "allLogs": ["AmlComputeClusterEvent", "AmlComputeJobEvent",
                                            "AmlRunStatusChangedEvent"]},
    },
}

# The destinations and the resource type each names.
_SUB_RG = r"/subscriptions/[0-9a-f-]{36}/resourcegroups/[-\w.()]{1,90}/providers"
DESTINATIONS = {
    "workspaceId": re.compile(_SUB_RG + r"/microsoft\.operationalinsights/workspaces/[a-z0-9][-a-z0-9]{2,61}[a-z0-9]$",
                              re.I),
    "storageAccountId": re.compile(_SUB_RG + r"/microsoft\.storage/storageaccounts/[a-z0-9]{3,24}$", re.I),
    "eventHubAuthorizationRuleId": re.compile(
        _SUB_RG + r"/microsoft\.eventhub/namespaces/[a-z][-a-z0-9]{4,48}[a-z0-9]/authorizationrules/[-\w.]{1,256}$",
        re.I),
}


def settings_table(state) -> dict:
    """Diagnostic settings by lower-case '{resource id}|{name}'."""
    return state.doc.setdefault("diagnostic_settings", {})


class MonitorApi:
    def __init__(self, state):
        self.state = state

    # ---- the resource the settings extend --------------------------------------------

    def _target(self, scope):
        """(canonical resource id, lower-case resource type) of the resource, or ARM's 404."""
        m = re.match(r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/"
                     r"(?P<rtype>[^/]+/[^/]+)/(?P<name>[^/]+)$", scope, re.I)
        rtype = m.group("rtype").lower() if m else ""
        if rtype == "microsoft.keyvault/vaults":
            vault = find_vault(self.state, m.group("sub"), m.group("rg"), m.group("name"))
            return (f"/subscriptions/{vault['subscription_id']}/resourceGroups/{vault['resource_group']}"
                    f"/providers/Microsoft.KeyVault/vaults/{vault['name']}"), rtype
        if rtype in ("microsoft.cognitiveservices/accounts", "microsoft.machinelearningservices/workspaces"):
            is_account = rtype.startswith("microsoft.cognitiveservices")
            provider = ACCOUNTS if is_account else WORKSPACES
            rec = find_resource(accounts(self.state) if is_account else workspaces(self.state), provider,
                                m.group("sub"), m.group("rg"), m.group("name"))
            return (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                    f"/providers/{provider}/{rec['name']}"), rtype
        if m:
            raise not_found(m.group("rtype"), m.group("name"), m.group("rg"))
        raise ServiceError(400, "InvalidResourceType",
                           "The emulator serves diagnostic settings on Key Vault vaults, Cognitive Services "
                           f"accounts and ML workspaces only, not on '{scope}'.")

    @staticmethod
    def _api(req):
        return api_version(req, API_VERSIONS, "diagnosticSettings")

    # ---- JSON ------------------------------------------------------------------------

    @staticmethod
    def setting_json(rec, api):
        props = {k: v for k, v in rec["properties"].items()}
        if api < _CATEGORY_GROUPS_FROM:
            props["logs"] = [{k: v for k, v in log.items() if k != "categoryGroup"}
                             for log in props.get("logs", []) if log.get("category")]
        return {"id": f"{rec['resource_id']}/providers/microsoft.insights/diagnosticSettings/{rec['name']}",
                "type": "Microsoft.Insights/diagnosticSettings", "name": rec["name"],
                "systemData": {"createdAt": rec["created_at"], "lastModifiedAt": rec["modified_at"]},
                "properties": props}

    # ---- validation ------------------------------------------------------------------

    def _logs(self, rtype, logs, api):
        """The logs as kept (category or categoryGroup, enabled, retentionPolicy), refusing
        what the resource type does not have."""
        known = _LOGS[rtype]
        out = []
        if not isinstance(logs, list):
            raise bad_request("BadRequest", "The 'logs' property must be an array.")
        for log in logs:
            if not isinstance(log, dict):
                raise bad_request("BadRequest", "Each entry of 'logs' must be an object.")
            cat = log.get("category")
            group = log.get("categoryGroup") if api >= _CATEGORY_GROUPS_FROM else None
            if cat and group:
                raise bad_request("BadRequest", "A log setting names either a category or a category group, "
                                                "not both.")
            if group:
                match = [g for g in known["groups"] if g.lower() == str(group).lower()]
                if not match:
                    raise bad_request("BadRequest", f"Category group '{group}' is not supported.")
                entry = {"categoryGroup": match[0]}
            else:
                match = [c for c in known["categories"] if c.lower() == str(cat or "").lower()]
                if not match:
                    raise bad_request("BadRequest", f"Category '{cat or ''}' is not supported.")
                entry = {"category": match[0]}
            entry["enabled"] = bool(log.get("enabled"))
            if isinstance(log.get("retentionPolicy"), dict):
                entry["retentionPolicy"] = log["retentionPolicy"]
            out.append(entry)
        return out

    @staticmethod
    def _metrics(metrics):
        if not isinstance(metrics, list):
            raise bad_request("BadRequest", "The 'metrics' property must be an array.")
        for m in metrics:
            cat = m.get("category") if isinstance(m, dict) else None
            if str(cat or "").lower() != "allmetrics":
                raise bad_request("BadRequest", f"Metric category '{cat}' is not supported, supported categories "
                                                "are: 'AllMetrics'")
        return [{k: v for k, v in m.items() if k in ("category", "enabled", "timeGrain", "retentionPolicy")}
                for m in metrics]

    @staticmethod
    def _categories(rtype, logs):
        """The enabled log categories a setting carries (groups expanded)."""
        cats = set()
        for log in logs:
            if not log["enabled"]:
                continue
            if log.get("categoryGroup"):
                cats.update(_LOGS[rtype]["groups"][log["categoryGroup"]])
            else:
                cats.add(log["category"])
        return cats

    def _sinks_free(self, resource_id, rtype, name, props):
        """Azure's 409 when another setting of the resource sends a category to one of these sinks."""
        mine = self._categories(rtype, props.get("logs", []))
        for other in settings_table(self.state).values():
            if other["resource_id"].lower() != resource_id.lower() or other["name"].lower() == name.lower():
                continue
            shared = mine & self._categories(rtype, other["properties"].get("logs", []))
            for key in DESTINATIONS:
                sink = props.get(key)
                if sink and shared and sink.lower() == str(other["properties"].get(key) or "").lower():
                    raise ServiceError(
                        409, "Conflict",
                        f"Data sink '{sink}' is already used in diagnostic setting '{other['name']}' for category "
                        f"'{sorted(shared)[0]}'. Data sinks can't be reused in different settings on the same "
                        "category for the same resource.")

    # ---- operations ------------------------------------------------------------------

    def put_setting(self, req, claims, body, scope, name):
        api = self._api(req)
        resource_id, rtype = self._target(scope)
        props = body.get("properties")
        if not isinstance(props, dict):
            raise bad_request("InvalidRequestContent", "The request content must have 'properties'.")
        kept = {}
        for key, pattern in DESTINATIONS.items():
            value = props.get(key)
            if value in (None, ""):
                continue
            if not isinstance(value, str) or not pattern.match(value):
                raise bad_request("LinkedInvalidPropertyId",
                                  f"Property id '{value}' at path 'properties.{key}' is invalid. Expect fully "
                                  "qualified resource Id that start with '/subscriptions/{subscriptionId}' or "
                                  "'/providers/{resourceProviderNamespace}/'.")
            kept[key] = value
        if not kept:
            raise bad_request("BadRequest", "A diagnostic setting needs at least one destination: a Log Analytics "
                                            "workspace (workspaceId), a storage account (storageAccountId) or an "
                                            "event hub (eventHubAuthorizationRuleId).")
        if props.get("eventHubName"):
            kept["eventHubName"] = props["eventHubName"]
        if props.get("logAnalyticsDestinationType"):
            kept["logAnalyticsDestinationType"] = props["logAnalyticsDestinationType"]
        kept["logs"] = self._logs(rtype, props.get("logs") or [], api)
        kept["metrics"] = self._metrics(props.get("metrics") or [])
        self._sinks_free(resource_id, rtype, name, kept)
        table = settings_table(self.state)
        key = f"{resource_id}|{name}".lower()
        now = now_iso()
        created = table.get(key, {}).get("created_at", now)
        table[key] = {"resource_id": resource_id, "name": name, "properties": kept, "created_at": created,
                      "modified_at": now}
        self.state.save()
        return json_response(200, self.setting_json(table[key], api))

    def get_setting(self, req, claims, body, scope, name):
        api = self._api(req)
        resource_id, _ = self._target(scope)
        rec = settings_table(self.state).get(f"{resource_id}|{name}".lower())
        if rec is None:
            raise ServiceError(404, "ResourceNotFound",
                               f"The diagnostic setting '{name}' doesn't exist.")
        return json_response(200, self.setting_json(rec, api))

    def delete_setting(self, req, claims, body, scope, name):
        self._api(req)
        resource_id, _ = self._target(scope)
        if settings_table(self.state).pop(f"{resource_id}|{name}".lower(), None) is None:
            return Response(204)
        self.state.save()
        return Response(200)

    def list_settings(self, req, claims, body, scope):
        api = self._api(req)
        resource_id, _ = self._target(scope)
        return json_response(200, {"value": [self.setting_json(r, api) for r in settings_table(self.state).values()
                                             if r["resource_id"].lower() == resource_id.lower()]})
