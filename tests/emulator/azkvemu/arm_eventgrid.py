"""Microsoft.EventGrid system topics and their event subscriptions on the emulated ARM: how
someone listens for a Key Vault's events, such as the Microsoft.KeyVault.KeyNearExpiry that a
key's rotation policy's Notify action raises.

  .../resourceGroups/{rg}/providers/Microsoft.EventGrid/systemTopics/{t}    PUT, GET, DELETE
  /subscriptions/{sub}[/resourceGroups/{rg}]/providers/Microsoft.EventGrid/systemTopics  GET (list)
  .../systemTopics/{t}/eventSubscriptions/{name}                          PUT, GET, DELETE
  .../systemTopics/{t}/eventSubscriptions                                 GET (list)

Shapes from @azure/arm-eventgrid 14.1.0 (api-version 2022-06-15: SystemTopic {source,
topicType, metricResourceId, provisioningState}; EventSubscription {destination
{endpointType, properties}, filter {includedEventTypes, ...}, topic, labels,
eventDeliverySchema, retryPolicy}). A PUT is finished when it answers (201 on create, 200 on
update, provisioningState Succeeded), which the SDK's poller takes as done.

Azure's refusals, in its words where public threads quote them:
  - a second system topic for one source: 400 InvalidRequest "There is an existing tracked
    system topic for the given source ... Only one system topic is allowed per source."
    (MicrosoftDocs/azure-docs#97986);
  - a new source for an existing topic: 400 InvalidRequest "System topic source cannot be
    modified." (Azure/azure-quickstart-templates#13688);
  - a source that does not exist, a topicType that is not the source's, an event type the
    topic type does not publish, a destination missing or of an unknown endpointType: 400
    InvalidRequest (the wording is the emulator's).
Event types of Microsoft.KeyVault.vaults: Microsoft docs, "Azure Key Vault as Event Grid source".
A WebHook's endpointUrl is write-only: answers show endpointBaseUrl (the URL without its query),
as Event Grid does. No event is ever delivered: the emulator keeps the configuration only.
"""

import re

from .arm_resources import api_version, find_vault
from .httpmsg import Response, ServiceError, bad_request, json_response
from .util import new_uuid, now_iso

API_VERSIONS = ("2022-06-15", "2025-02-15")
KEYVAULT_TOPIC_TYPE = "Microsoft.KeyVault.vaults"
KEYVAULT_EVENTS = [f"Microsoft.KeyVault.{kind}{what}" for kind in ("Certificate", "Key", "Secret")
                   for what in ("NewVersionCreated", "NearExpiry", "Expired")] + ["Microsoft.KeyVault.VaultAccessPolicyChanged"]
ENDPOINT_TYPES = ("WebHook", "EventHub", "StorageQueue", "HybridConnection", "ServiceBusQueue", "ServiceBusTopic",
                  "AzureFunction", "MonitorAlert", "NamespaceTopic", "PartnerDestination")
_VAULT_ID = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/"
                       r"microsoft\.keyvault/vaults/(?P<name>[^/]+)$", re.I)


def invalid(message):
    return bad_request("InvalidRequest", message)


def topics_table(state) -> dict:
    """System topics by lower-case '{sub}|{rg}|{name}'; each keeps its event subscriptions."""
    return state.doc.setdefault("system_topics", {})


class EventGridApi:
    def __init__(self, state):
        self.state = state

    @staticmethod
    def _api(req):
        return api_version(req, API_VERSIONS, "systemTopics")

    def _topic(self, sub, rg, name):
        rec = topics_table(self.state).get(f"{sub}|{rg}|{name}".lower())
        if rec is None:
            raise ServiceError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.EventGrid/systemTopics/{name}' under resource group "
                               f"'{rg}' was not found. For more details please go to "
                               "https://aka.ms/ARMResourceNotFoundFix")
        return rec

    @staticmethod
    def topic_id(rec):
        return (f"/subscriptions/{rec['subscription_id']}/resourceGroups/{rec['resource_group']}"
                f"/providers/Microsoft.EventGrid/systemTopics/{rec['name']}")

    def topic_json(self, rec):
        return {"id": self.topic_id(rec), "name": rec["name"], "type": "Microsoft.EventGrid/systemTopics",
                "location": rec["location"], "tags": rec.get("tags") or {},
                "systemData": {"createdAt": rec["created_at"], "lastModifiedAt": rec["modified_at"]},
                "properties": {"source": rec["source"], "topicType": rec["topic_type"],
                               "metricResourceId": rec["metric_resource_id"], "provisioningState": "Succeeded"}}

    def subscription_json(self, topic, rec):
        dest = {"endpointType": rec["destination"]["endpointType"],
                "properties": dict(rec["destination"].get("properties") or {})}
        if dest["endpointType"] == "WebHook":
            url = dest["properties"].pop("endpointUrl", None) or ""
            dest["properties"]["endpointBaseUrl"] = url.split("?", 1)[0]
        return {"id": f"{self.topic_id(topic)}/eventSubscriptions/{rec['name']}", "name": rec["name"],
                "type": "Microsoft.EventGrid/eventSubscriptions",
                "systemData": {"createdAt": rec["created_at"], "lastModifiedAt": rec["modified_at"]},
                "properties": {"topic": topic["source"], "provisioningState": "Succeeded", "destination": dest,
                               "filter": rec["filter"], "labels": rec.get("labels") or [],
                               "eventDeliverySchema": rec.get("schema") or "EventGridSchema",
                               "retryPolicy": rec.get("retry") or {"maxDeliveryAttempts": 30,
                                                                   "eventTimeToLiveInMinutes": 1440}}}

    # ---- system topics ---------------------------------------------------------------

    def _source(self, source, topic_type):
        """The canonical ARM id of a system topic's source (a Key Vault vault), or a refusal."""
        m = _VAULT_ID.match(source or "")
        if not m:
            raise invalid(f"The source '{source}' is not a resource the emulator publishes events for (it serves "
                          "Key Vault vaults as sources).")
        vault = find_vault(self.state, m.group("sub"), m.group("rg"), m.group("name"))
        if str(topic_type or "").lower() != KEYVAULT_TOPIC_TYPE.lower():
            raise invalid(f"The topic type '{topic_type}' is not the source's: a Key Vault vault's system topic "
                          f"has topic type '{KEYVAULT_TOPIC_TYPE}'.")
        return (f"/subscriptions/{vault['subscription_id']}/resourceGroups/{vault['resource_group']}"
                f"/providers/Microsoft.KeyVault/vaults/{vault['name']}")

    def put_topic(self, req, claims, body, sub, rg, name):
        self._api(req)
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        if not body.get("location"):
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        table = topics_table(self.state)
        key = f"{sub}|{rg}|{name}".lower()
        current = table.get(key)
        source = self._source(props.get("source"), props.get("topicType"))
        if current and current["source"].lower() != source.lower():
            raise invalid("System topic source cannot be modified.")
        for k, other in table.items():
            if k != key and other["source"].lower() == source.lower():
                raise invalid(f"There is an existing tracked system topic for the given source {source}. Only one "
                              "system topic is allowed per source.")
        now = now_iso()
        rec = current or {"subscription_id": sub, "resource_group": rg, "name": name, "source": source,
                          "topic_type": KEYVAULT_TOPIC_TYPE, "metric_resource_id": new_uuid(), "created_at": now,
                          "subscriptions": {}}
        rec.update(location=body["location"], tags=body.get("tags") or {}, modified_at=now)
        table[key] = rec
        self.state.save()
        return json_response(200 if current else 201, self.topic_json(rec))

    def get_topic(self, req, claims, body, sub, rg, name):
        self._api(req)
        return json_response(200, self.topic_json(self._topic(sub, rg, name)))

    def delete_topic(self, req, claims, body, sub, rg, name):
        self._api(req)
        if topics_table(self.state).pop(f"{sub}|{rg}|{name}".lower(), None) is None:
            return Response(204)
        self.state.save()
        return Response(200)

    def list_topics(self, req, claims, body, sub, rg=None):
        self._api(req)
        return json_response(200, {"value": [
            self.topic_json(r) for r in topics_table(self.state).values()
            if r["subscription_id"].lower() == sub.lower() and (rg is None or r["resource_group"].lower() == rg.lower())]})

    # ---- event subscriptions ---------------------------------------------------------

    @staticmethod
    def _filter(flt):
        flt = dict(flt) if isinstance(flt, dict) else {}
        types = flt.get("includedEventTypes")
        if types is not None:
            if not isinstance(types, list):
                raise invalid("filter.includedEventTypes must be an array of event types.")
            for t in types:
                if str(t).lower() not in (e.lower() for e in KEYVAULT_EVENTS):
                    raise invalid(f"The event type '{t}' is not published by topic type '{KEYVAULT_TOPIC_TYPE}'. "
                                  f"Its event types are: {', '.join(KEYVAULT_EVENTS)}.")
            flt["includedEventTypes"] = [next(e for e in KEYVAULT_EVENTS if e.lower() == str(t).lower())
                                         for t in types]
        flt.setdefault("subjectBeginsWith", "")
        flt.setdefault("subjectEndsWith", "")
        flt.setdefault("isSubjectCaseSensitive", False)
        return flt

    def put_subscription(self, req, claims, body, sub, rg, topic, name):
        self._api(req)
        rec_topic = self._topic(sub, rg, topic)
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        dest = props.get("destination")
        if not isinstance(dest, dict) or dest.get("endpointType") not in ENDPOINT_TYPES:
            raise invalid("An event subscription needs a destination with an endpointType, one of "
                          f"{', '.join(ENDPOINT_TYPES)}.")
        if dest["endpointType"] == "WebHook" and not str((dest.get("properties") or {}).get("endpointUrl", "")
                                                        ).startswith("https://"):
            raise invalid("A WebHook destination needs an endpointUrl that starts with https://.")
        subs = rec_topic["subscriptions"]
        current = subs.get(name.lower())
        now = now_iso()
        rec = {"name": name, "destination": dest, "filter": self._filter(props.get("filter")),
               "labels": props.get("labels") or [], "schema": props.get("eventDeliverySchema"),
               "retry": props.get("retryPolicy"), "created_at": current["created_at"] if current else now,
               "modified_at": now}
        subs[name.lower()] = rec
        self.state.save()
        return json_response(200 if current else 201, self.subscription_json(rec_topic, rec))

    def get_subscription(self, req, claims, body, sub, rg, topic, name):
        self._api(req)
        rec_topic = self._topic(sub, rg, topic)
        rec = rec_topic["subscriptions"].get(name.lower())
        if rec is None:
            raise ServiceError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.EventGrid/systemTopics/{topic}/eventSubscriptions/{name}' "
                               f"under resource group '{rg}' was not found.")
        return json_response(200, self.subscription_json(rec_topic, rec))

    def delete_subscription(self, req, claims, body, sub, rg, topic, name):
        self._api(req)
        if self._topic(sub, rg, topic)["subscriptions"].pop(name.lower(), None) is None:
            return Response(204)
        self.state.save()
        return Response(200)

    def list_subscriptions(self, req, claims, body, sub, rg, topic):
        self._api(req)
        rec_topic = self._topic(sub, rg, topic)
        return json_response(200, {"value": [self.subscription_json(rec_topic, r)
                                             for r in rec_topic["subscriptions"].values()]})
