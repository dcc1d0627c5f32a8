"""Microsoft.CognitiveServices/accounts/{a}/projects/{p} (Foundry projects) on the emulated ARM.

  GET, PUT, PATCH, DELETE .../accounts/{a}/projects/{p}     GET .../accounts/{a}/projects (list)

Shapes from the REST spec, stable/2025-06-01 (cognitiveservices.json; examples CreateProject.json,
GetProject.json, DeleteProject.json) and @azure/arm-cognitiveservices 8.1.0 (Projects operation
group; models Project, ProjectProperties): a project is {id, name, type, etag, location, tags,
identity, properties: {provisioningState, displayName, description, endpoints, isDefault}}; its
name is 2-64 characters matching ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (the SDK's projectName constraint).

What the service does that the emulator models:
- A project has a managed identity of its own (the example's SystemAssigned identity has its
  own principalId), made by the same code as an account's (arm_resources.set_identity).
- A project lives in its account: a missing account is ARM's 404 for a nested resource
  (ParentResourceNotFound), and the account must allow project management
  (properties.allowProjectManagement, Account properties in the spec: "Specifies whether this
  resource support project management as child resources"; Azure/terraform-azurerm-avm-res-
  cognitiveservices-account#119: "New Foundry project type requires the AI Foundry to have
  allowProjectManagement set to true"). The refusal's code and wording are the emulator's.
- The first project of an account is its default (isDefault; the account's defaultProject), as
  the portal's "Default project name" (foundry-cmk-lab.txt, Task 3) makes one with the account;
  the account lists its projects in associatedProjects.
- A project has no encryption of its own: it uses its account's key (accounts are bound, the
  project's PUT has no encryption property).
PUT, PATCH and DELETE complete at once (200/201; DELETE 200, or 204 when there was nothing), which
the spec's long-running operations allow.
"""

import copy
import json
import re

from .arm_resources import ACCOUNTS, accounts, find_resource, identity_json, not_found, set_identity
from .httpmsg import Response, ServiceError, bad_request, json_response
from .state import StateError
from .util import now_iso

PROJECTS = "Microsoft.CognitiveServices/accounts/projects"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$")


def projects(state) -> dict:
    """Projects by "account/project", lower case."""
    return state.doc.setdefault("projects", {})


def _key(account, project):
    return f"{account.lower()}/{project.lower()}"


def account_projects(state, account_rec) -> list:
    """The project records of an account, oldest first."""
    prefix = account_rec["name"].lower() + "/"
    return sorted((p for k, p in projects(state).items() if k.startswith(prefix)), key=lambda p: p["created_at"])


def account_project_properties(state, account_rec) -> dict:
    """What an account shows of its projects: allowProjectManagement (when set),
    defaultProject and associatedProjects (when it has projects)."""
    out = {}
    if account_rec.get("allow_project_management") is not None:
        out["allowProjectManagement"] = account_rec["allow_project_management"]
    names = [p["name"] for p in account_projects(state, account_rec)]
    if names:
        out["associatedProjects"] = names
        out["defaultProject"] = next(p["name"] for p in account_projects(state, account_rec) if p["is_default"])
    return out


def set_project_management(account_rec, props):
    """An account PUT/PATCH's allowProjectManagement, kept on the account."""
    if "allowProjectManagement" in props:
        account_rec["allow_project_management"] = bool(props["allowProjectManagement"])


def _location(loc):
    return (loc or "").replace(" ", "").lower()


class ProjectApi:
    def __init__(self, state):
        self.state = state

    def project_json(self, rec):
        account = accounts(self.state)[rec["account"].lower()]
        host = account.get("custom_subdomain") or account["name"]
        props = {"provisioningState": "Succeeded", "displayName": rec.get("display_name") or rec["name"],
                 "description": rec.get("description") or "", "isDefault": rec["is_default"],
                 "endpoints": {"AI Foundry API": f"https://{host}.services.ai.azure.com/api/projects/{rec['name']}"}}
        out = {"id": (f"/subscriptions/{account['subscription_id']}/resourceGroups/{account['resource_group']}"
                      f"/providers/{ACCOUNTS}/{account['name']}/projects/{rec['name']}"),
               "name": rec["name"], "type": PROJECTS, "etag": rec["etag"], "location": account["location"],
               "tags": rec.get("tags", {}), "properties": props,
               "systemData": {"createdAt": rec["created_at"], "lastModifiedAt": rec["modified_at"]}}
        ident = identity_json(rec)
        if ident:
            out["identity"] = ident
        return out

    def _account(self, sub, rg, name):
        try:
            return find_resource(accounts(self.state), ACCOUNTS, sub, rg, name)
        except ServiceError:
            # ARM's answer for a nested resource whose parent does not exist.
            raise ServiceError(404, "ParentResourceNotFound",
                               f"Can not perform requested operation on nested resource. Parent resource "
                               f"'{name}' not found.") from None

    def _project(self, sub, rg, name, project):
        self._account(sub, rg, name)
        rec = projects(self.state).get(_key(name, project))
        if rec is None:
            raise not_found(ACCOUNTS, f"{name}/projects/{project}", rg)
        return rec

    def _store(self, rec, body, claims, name, project):
        """Applies a PUT/PATCH body to rec and stores it; on an error nothing is kept (no
        managed identity left behind)."""
        props = body.get("properties") or {}
        if "encryption" in props:
            raise bad_request("InvalidRequestContent",
                              "A project has no encryption of its own: it uses its account's "
                              "(properties.encryption of the account).")
        if "identity" in body:
            identities = copy.deepcopy(self.state.doc["identities"])
            try:
                set_identity(self.state, rec, body["identity"], claims.get("tid"))
            except (ServiceError, StateError):
                self.state.doc["identities"] = identities
                raise
        for field, prop in (("display_name", "displayName"), ("description", "description")):
            if prop in props:
                rec[field] = props[prop]
        if "tags" in body:
            rec["tags"] = body.get("tags") or {}
        rec["modified_at"] = now_iso()
        rec["etag"] = "W/\"datetime'" + rec["modified_at"].replace(":", "%3A") + "'\""
        projects(self.state)[_key(name, project)] = rec
        self.state.save()

    def put_project(self, req, claims, body, sub, rg, name, project):
        account = self._account(sub, rg, name)
        if not _NAME.match(project):
            raise bad_request("InvalidResourceName",
                              f"The project name '{project}' is invalid: 2-64 letters, digits, '_', '.' and '-', "
                              "starting with a letter or digit.")
        if not account.get("allow_project_management"):
            raise bad_request("BadRequest",
                              f"Account '{account['name']}' does not allow project management "
                              "(properties.allowProjectManagement is not true): it cannot hold projects.")
        if body.get("location") and _location(body["location"]) != _location(account["location"]):
            # The emulator's rule: a project lives in its account's region.
            raise bad_request("LocationNotAvailableForResourceType",
                              f"A project is in its account's region '{account['location']}', "
                              f"not '{body['location']}'.")
        old = projects(self.state).get(_key(name, project))
        rec = copy.deepcopy(old) if old else {
            "name": project, "account": account["name"], "created_at": now_iso(), "tags": {},
            "identity": None, "is_default": not account_projects(self.state, account)}
        self._store(rec, body, claims, name, project)
        return json_response(200 if old else 201, self.project_json(rec))

    def patch_project(self, req, claims, body, sub, rg, name, project):
        rec = copy.deepcopy(self._project(sub, rg, name, project))
        self._store(rec, body, claims, name, project)
        return json_response(200, self.project_json(rec))

    def get_project(self, req, claims, body, sub, rg, name, project):
        return json_response(200, self.project_json(self._project(sub, rg, name, project)))

    def delete_project(self, req, claims, body, sub, rg, name, project):
        self._account(sub, rg, name)
        rec = projects(self.state).pop(_key(name, project), None)
        if rec is None:
            return Response(204)
        if rec["is_default"]:
            rest = account_projects(self.state, accounts(self.state)[name.lower()])
            if rest:
                rest[0]["is_default"] = True
        self.state.save()
        return Response(200)

    def list_projects(self, req, claims, body, sub, rg, name):
        account = self._account(sub, rg, name)
        return json_response(200, {"value": [self.project_json(p) for p in account_projects(self.state, account)]})

    # ---- admin (the same code as the PUT, without ARM's authentication) ----------------

    def admin_add(self, body, tenant_id=None):
        account = accounts(self.state).get(str(body.get("account", "")).lower())
        if account is None:
            raise ServiceError(404, "NotFound", f"unknown account '{body.get('account')}'")
        req_body = {"properties": {"displayName": body.get("display_name") or body["name"]}}
        identity = body.get("identity")
        if identity in ("system", "SystemAssigned"):
            req_body["identity"] = {"type": "SystemAssigned"}
        elif identity and identity != "none":
            req_body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}}
        with self.state.lock:
            resp = self.put_project(None, {"tid": tenant_id}, req_body, account["subscription_id"],
                                    account["resource_group"], account["name"], body["name"])
        return json.loads(resp.body)
