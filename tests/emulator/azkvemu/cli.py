"""Command line: `azkv-emulator serve ...` and `azkv-emulator admin --state-dir DIR <command> ...`.

Admin commands talk to the running emulator's admin API (port and CA from
DIR/emulator.json), print JSON on stdout (export-public prints a PEM), and exit
non-zero with a one-line message on stderr when something fails.
"""

import argparse
import http.client
import json
import os
import ssl
import sys
from urllib.parse import quote

from .app import READY_FILE, serve


class AdminError(Exception):
    pass


class AdminClient:
    def __init__(self, state_dir):
        ready = os.path.join(state_dir, READY_FILE)
        try:
            with open(ready) as fh:
                info = json.load(fh)
        except FileNotFoundError:
            raise AdminError(f"no running emulator: {ready} does not exist "
                             f"(start one with: azkv-emulator serve --state-dir {state_dir})") from None
        self.port = info["port"]
        self.ctx = ssl.create_default_context(cafile=info["ca_file"])

    def call(self, method, path, body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=120)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload else {}
            conn.request(method, "/_emulator" + path, body=payload, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as exc:
            raise AdminError(f"cannot reach the emulator on port {self.port}: {exc}") from None
        finally:
            conn.close()
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            raise AdminError(f"unexpected answer ({resp.status}) from the emulator") from None
        if resp.status >= 400:
            err = doc.get("error", {})
            raise AdminError(f"{err.get('code', resp.status)}: {err.get('message', data.decode(errors='replace'))}")
        return doc


def _csv(text):
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _on_off(text):
    if text is None:
        return None
    if text.lower() in ("on", "true", "yes", "1"):
        return True
    if text.lower() in ("off", "false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError("expected on or off")


def _tags(pairs):
    tags = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise AdminError(f"tag '{pair}' is not NAME=VALUE")
        tags[name] = value
    return tags or None


def _q(text):
    return quote(text, safe="")


def run_admin(args) -> int:
    client = AdminClient(args.state_dir)
    c = args.command
    if c == "show-tenant":
        out = client.call("GET", "/tenant")
    elif c == "add-tenant":
        out = client.call("POST", "/tenants", {"name": args.name, "tenant_id": args.tenant_id})
    elif c == "list-tenants":
        out = client.call("GET", "/tenants")
    elif c == "add-identity":
        out = client.call("POST", "/identities", {"name": args.name, "client_id": args.client_id,
                                                 "client_secret": args.client_secret, "tenant": args.tenant,
                                                 "managed": args.managed})
    elif c == "list-identities":
        out = client.call("GET", "/identities")
    elif c == "add-vault":
        out = client.call("POST", "/vaults", {
            "name": args.name, "tenant": args.tenant, "location": args.location,
            "kind": "managedhsm" if args.hsm else "vault", "soft_delete": not args.no_soft_delete,
            "retention_days": args.retention_days, "purge_protection": args.purge_protection,
            "rbac": args.rbac})
    elif c == "list-vaults":
        out = client.call("GET", "/vaults")
    elif c == "show-vault":
        out = client.call("GET", f"/vaults/{_q(args.vault)}")
    elif c == "update-vault":
        out = client.call("PATCH", f"/vaults/{_q(args.vault)}", {
            "rbac": args.rbac, "purge_protection": args.purge_protection,
            "soft_delete": args.soft_delete, "retention_days": args.retention_days,
            "location": args.location})
    elif c == "set-policy":
        out = client.call("PUT", f"/vaults/{_q(args.vault)}/access-policies/{_q(args.identity)}",
                          {"keys": _csv(args.keys)})
    elif c == "assign-role":
        if bool(args.vault) == bool(args.scope) or (args.key and not args.vault):
            raise AdminError("assign-role takes --vault V [--key K], or --scope ARM_SCOPE")
        if args.scope:
            out = client.call("POST", "/role-assignments",
                              {"identity": args.identity, "role": args.role, "scope": args.scope})
        else:
            out = client.call("POST", f"/vaults/{_q(args.vault)}/role-assignments",
                              {"identity": args.identity, "role": args.role, "key": args.key})
    elif c == "unassign-role":
        if args.vault:
            out = client.call("DELETE", f"/vaults/{_q(args.vault)}/role-assignments/{_q(args.id)}")
        else:
            out = client.call("DELETE", f"/role-assignments/{_q(args.id)}")
    elif c == "hsm-assign-role":
        out = client.call("POST", f"/vaults/{_q(args.vault)}/hsm-role-assignments",
                          {"identity": args.identity, "role": args.role, "key": args.key,
                           "scope": args.scope})
    elif c == "hsm-unassign-role":
        out = client.call("DELETE", f"/vaults/{_q(args.vault)}/hsm-role-assignments/{_q(args.name)}")
    elif c == "hsm-list-roles":
        out = client.call("GET", f"/vaults/{_q(args.vault)}/hsm-role-assignments")
    elif c in ("arm-rbac", "limits"):
        if args.state is None:
            out = client.call("GET", f"/{c}")
        else:
            out = client.call("PUT", f"/{c}", {"enabled": args.state == "on"})
    elif c == "create-key":
        out = client.call("POST", f"/vaults/{_q(args.vault)}/keys", {
            "name": args.name, "kty": args.kty, "size": args.size, "crv": args.crv,
            "ops": _csv(args.ops) or None, "disabled": args.disabled, "tags": _tags(args.tag),
            "nbf": args.nbf, "exp": args.exp})
    elif c == "import-key":
        with open(args.pem) as fh:
            pem = fh.read()
        out = client.call("POST", f"/vaults/{_q(args.vault)}/keys/{_q(args.name)}/import", {
            "pem": pem, "ops": _csv(args.ops) or None, "hsm": args.hsm, "disabled": args.disabled,
            "tags": _tags(args.tag)})
    elif c == "export-public":
        path = f"/vaults/{_q(args.vault)}/keys/{_q(args.name)}/public"
        if args.version:
            path += f"?version={_q(args.version)}"
        sys.stdout.write(client.call("GET", path)["pem"])
        return 0
    elif c == "issue-token":
        out = client.call("POST", "/tokens", {"identity": args.identity, "resource": args.resource,
                                             "lifetime": args.lifetime})
    elif c == "add-account":
        out = client.call("POST", "/accounts", {
            "name": args.name, "location": args.location, "kind": args.kind, "identity": args.identity,
            "resource_group": args.resource_group, "tenant": args.tenant})
    elif c == "list-accounts":
        out = client.call("GET", "/accounts")
    elif c == "account-cmk":
        out = client.call("GET", f"/accounts/{_q(args.name)}/cmk")
    elif c == "add-project":
        out = client.call("POST", "/projects", {"account": args.account, "name": args.name,
                                                "identity": args.identity, "tenant": args.tenant})
    elif c == "add-workspace":
        body = {"name": args.name, "location": args.location, "identity": args.identity,
                "resource_group": args.resource_group, "tenant": args.tenant, "kind": args.kind,
                "hub_resource_id": args.hub_resource_id}
        if args.key_identifier:
            body["encryption"] = {"status": "Enabled", "keyVaultProperties": {
                "keyVaultArmId": args.key_vault_arm_id, "keyIdentifier": args.key_identifier,
                "identityClientId": args.identity_client_id}}
            if args.user_assigned_identity:
                body["encryption"]["identity"] = {"userAssignedIdentity": args.user_assigned_identity}
        out = client.call("POST", "/workspaces", body)
    elif c == "add-private-endpoint":
        out = client.call("POST", f"/vaults/{_q(args.vault)}/private-endpoint-connections",
                          {"name": args.name, "status": args.status, "endpoint_id": args.endpoint_id})
    elif c == "imds-identity":
        out = client.call("PUT", "/imds", {"identity": args.identity})
    elif c == "add-certificate":
        if bool(args.pem) == bool(args.generate):
            raise AdminError("add-certificate takes --pem CERT.pem or --generate")
        if args.pem:
            with open(args.pem) as fh:
                out = client.call("POST", f"/identities/{_q(args.identity)}/certificates", {"pem": fh.read()})
        else:
            out = client.call("POST", f"/identities/{_q(args.identity)}/certificates",
                              {"generate": True, "subject": args.subject})
    elif c == "issue-certificate":
        out = client.call("POST", "/certificates", {"subject": args.subject, "days": args.days})
    elif c == "trust-subject":
        body = {"subject": args.subject}
        if args.ca:
            with open(args.ca) as fh:
                body["ca_pem"] = fh.read()
        out = client.call("POST", f"/identities/{_q(args.identity)}/trusted-subjects", body)
    elif c == "add-federated-credential":
        out = client.call("POST", f"/identities/{_q(args.identity)}/federated-credentials", {
            "subject": args.subject, "issuer": args.issuer, "audience": args.audience, "name": args.name})
    elif c == "issue-federated-token":
        out = client.call("POST", "/federated-tokens", {
            "subject": args.subject, "audience": args.audience, "lifetime": args.lifetime,
            "issuer": args.issuer, "not_before_offset": args.not_before_offset})
    elif c == "app-service":
        out = (client.call("PUT", "/app-service", {"identity": args.identity}) if args.identity
               else client.call("GET", "/app-service"))
    elif c == "arc":
        out = client.call("PUT", "/arc", {"identity": args.identity}) if args.identity else client.call("GET", "/arc")
    elif c == "token-lifetime":
        if args.seconds is not None and args.reset:
            raise AdminError("token-lifetime takes --seconds N or --reset, not both")
        if args.seconds is not None or args.reset:
            out = client.call("PUT", "/token-lifetime", {"seconds": args.seconds})
        else:
            out = client.call("GET", "/token-lifetime")
    elif c == "list-workspaces":
        out = client.call("GET", "/workspaces")
    elif c == "fault" and args.stats:
        out = client.call("GET", "/faults/stats")
    elif c == "fault" and args.seed is not None:
        out = client.call("PUT", "/faults/seed", {"seed": args.seed})
    elif c in RULE_COMMANDS:
        out = _rules(client, args, *RULE_COMMANDS[c])
    elif c == "requests":
        out = client.call("DELETE" if args.clear else "GET", "/requests")
    else:  # argparse prevents this
        raise AdminError(f"unknown command {c}")
    print(json.dumps(out, indent=2))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="azkv-emulator",
                                     description="Local emulator of Azure Key Vault keys and Entra ID.")
    sub = parser.add_subparsers(dest="mode", required=True)

    s = sub.add_parser("serve", help="run the emulator (HTTPS on loopback) until SIGTERM/SIGINT")
    s.add_argument("--state-dir", required=True, help="CA, certificates, state.json and emulator.json live here")
    s.add_argument("--port", type=int, default=0, help="TCP port (0: pick a free one; see emulator.json)")
    s.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (127.0.0.1 or ::1)")
    s.add_argument("--localhost-vault", metavar="NAME",
                   help="serve vault NAME's data plane on https://127.0.0.1:PORT/keys/... too")
    s.add_argument("--authority-host", default="https://login.microsoftonline.com",
                   help="authority named in Key Vault's 401 challenge")
    s.add_argument("--token-lifetime", type=int, default=3600, help="seconds an issued token is valid")
    s.add_argument("--default-tenant", metavar="UUID",
                   help="id of the default tenant when the state is first created")
    s.add_argument("--arm-rbac", action="store_true",
                   help="check ARM callers' control-plane role assignments (admin arm-rbac on|off switches it)")
    s.add_argument("--kv-limits", action="store_true",
                   help="enforce Key Vault's transaction limits per vault, 429 past them "
                        "(limits.py; admin limits on|off switches it)")
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="benchmarks only: N processes serving one fixed state (the admin API "
                        "then only reads; app.py)")
    s.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                   help="close a keep-alive connection idle this long (default 120; the bench "
                        "uses 1, so that each round's connections are placed anew over --workers)")
    s.add_argument("--issued-token-log", metavar="FILE",
                   help="test-only: append every token issued to FILE, one a line (for secret scans)")
    s.add_argument("--arc-token-dir", metavar="DIR",
                   help="where the Azure Arc endpoint writes its challenge .key files "
                        "(default STATE_DIR/azcmagent-tokens)")

    a = sub.add_parser("admin", help="set up tenants, identities, vaults, grants and keys")
    a.add_argument("--state-dir", required=True)
    cmds = a.add_subparsers(dest="command", required=True)

    cmds.add_parser("show-tenant", help="print the default tenant")
    cmds.add_parser("list-tenants")
    p = cmds.add_parser("add-tenant")
    p.add_argument("--name", required=True)
    p.add_argument("--tenant-id")

    p = cmds.add_parser("add-identity", help="an app registration / service principal")
    p.add_argument("--name", required=True)
    p.add_argument("--managed", action="store_true", help="a managed identity (served by the IMDS endpoint)")
    p.add_argument("--client-id")
    p.add_argument("--client-secret")
    p.add_argument("--tenant", help="tenant id or name (default tenant if omitted)")
    cmds.add_parser("list-identities")

    p = cmds.add_parser("add-vault")
    p.add_argument("--name", required=True)
    p.add_argument("--tenant")
    p.add_argument("--location", default="eastus")
    p.add_argument("--hsm", action="store_true", help="a Managed HSM (NAME.managedhsm.azure.net)")
    p.add_argument("--no-soft-delete", action="store_true")
    p.add_argument("--retention-days", type=int, default=90)
    p.add_argument("--purge-protection", action="store_true")
    p.add_argument("--rbac", action="store_true", help="enableRbacAuthorization (role assignments, not policies)")
    cmds.add_parser("list-vaults")
    p = cmds.add_parser("show-vault")
    p.add_argument("--vault", required=True)
    p = cmds.add_parser("update-vault")
    p.add_argument("--vault", required=True)
    p.add_argument("--rbac", type=_on_off, metavar="on|off")
    p.add_argument("--purge-protection", type=_on_off, metavar="on|off")
    p.add_argument("--soft-delete", type=_on_off, metavar="on|off")
    p.add_argument("--retention-days", type=int)
    p.add_argument("--location")

    p = cmds.add_parser("set-policy", help="replace an identity's key permissions (empty list removes)")
    p.add_argument("--vault", required=True)
    p.add_argument("--identity", required=True, help="client id, object id or name")
    p.add_argument("--keys", default="", help="comma-separated, e.g. get,list,wrapKey,unwrapKey")
    p = cmds.add_parser("assign-role", help="RBAC role assignment at vault or key scope, or at an ARM scope")
    p.add_argument("--vault")
    p.add_argument("--scope", metavar="ARM_SCOPE",
                   help="/subscriptions/S[/resourceGroups/RG[/providers/...]]: any scope ARM role assignments "
                        "take (bypasses ARM's own authorization)")
    p.add_argument("--identity", required=True)
    p.add_argument("--role", required=True, help='name or id, e.g. "Key Vault Crypto Service Encryption User"')
    p.add_argument("--key", help="key name for key scope (default: vault scope)")
    p = cmds.add_parser("unassign-role", help="by id; without --vault, at whatever scope it is")
    p.add_argument("--vault")
    p.add_argument("--id", required=True)
    p = cmds.add_parser("hsm-assign-role", help="Managed HSM local RBAC: a role at scope /, /keys or /keys/NAME")
    p.add_argument("--vault", required=True, help="the Managed HSM")
    p.add_argument("--identity", required=True, help="client id, object id or name (or any principal id)")
    p.add_argument("--role", required=True, help='name or id, e.g. "Managed HSM Crypto User"')
    g = p.add_mutually_exclusive_group()
    g.add_argument("--key", help="key scope /keys/KEY")
    g.add_argument("--scope", help="/ (default), /keys or /keys/NAME")
    p = cmds.add_parser("hsm-unassign-role", help="Managed HSM local RBAC: remove an assignment by name")
    p.add_argument("--vault", required=True)
    p.add_argument("--name", required=True, help="the assignment's name (a GUID)")
    p = cmds.add_parser("hsm-list-roles", help="Managed HSM local RBAC: the assignments")
    p.add_argument("--vault", required=True)

    for name in ("create-key", "import-key"):
        p = cmds.add_parser(name)
        p.add_argument("--vault", required=True)
        p.add_argument("--name", required=True)
        p.add_argument("--ops", help="comma-separated key_ops (default: the service's default)")
        p.add_argument("--disabled", action="store_true")
        p.add_argument("--tag", action="append", metavar="NAME=VALUE")
        if name == "create-key":
            p.add_argument("--kty", default="RSA", choices=["RSA", "RSA-HSM", "EC", "EC-HSM", "oct-HSM"],
                           help="oct-HSM (AES): Managed HSM only")
            p.add_argument("--size", type=int, help="RSA: 2048, 3072 or 4096; oct-HSM: 128, 192 or 256")
            p.add_argument("--crv", help="EC: P-256, P-384, P-521 or P-256K")
            p.add_argument("--nbf", type=int)
            p.add_argument("--exp", type=int)
        else:
            p.add_argument("--pem", required=True, help="unencrypted RSA or EC private key PEM file")
            p.add_argument("--hsm", action="store_true", help="import as RSA-HSM / EC-HSM")
    p = cmds.add_parser("export-public", help="print a key version's public key as PEM")
    p.add_argument("--vault", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--version")

    p = cmds.add_parser("issue-token", help="a signed token without the OAuth exchange (lifetime<=0: expired)")
    p.add_argument("--identity", required=True)
    p.add_argument("--resource", default="https://vault.azure.net")
    p.add_argument("--lifetime", type=int)

    p = cmds.add_parser("add-account", help="a Microsoft.CognitiveServices account (Foundry resource)")
    p.add_argument("--name", required=True)
    p.add_argument("--location", default="eastus")
    p.add_argument("--kind", default="AIServices")
    p.add_argument("--identity", choices=["system"], help="system: a system-assigned managed identity")
    p.add_argument("--resource-group")
    p.add_argument("--tenant")
    cmds.add_parser("list-accounts")
    p = cmds.add_parser("account-cmk", help="an account's customer-managed key state (unwraps as its identity)")
    p.add_argument("name")
    p = cmds.add_parser("add-project", help="a Foundry project under an account (its allowProjectManagement on)")
    p.add_argument("--account", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--identity", default="system", help="system (default), none, or a user-assigned identity's ARM id")
    p.add_argument("--tenant")
    p = cmds.add_parser("add-workspace", help="a Microsoft.MachineLearningServices workspace (hub/project)")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=["Default", "Hub", "Project"])
    p.add_argument("--hub-resource-id", help="a Project's hub (ARM id); the project takes its encryption")
    p.add_argument("--location", default="eastus")
    p.add_argument("--identity", choices=["system"])
    p.add_argument("--resource-group")
    p.add_argument("--tenant")
    p.add_argument("--key-vault-arm-id", help="CMK at creation: the vault's ARM id")
    p.add_argument("--key-identifier", help="CMK at creation: the key URL")
    p.add_argument("--identity-client-id")
    p.add_argument("--user-assigned-identity", help="ARM id of the user-assigned identity for CMK")
    cmds.add_parser("list-workspaces")
    p = cmds.add_parser("add-private-endpoint", help="the connection a private endpoint makes to a vault "
                                                     "(Private Link; the vault's owner approves it through ARM)")
    p.add_argument("--vault", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--status", choices=["Pending", "Approved", "Rejected", "Disconnected"], default="Pending")
    p.add_argument("--endpoint-id", help="the private endpoint's ARM id (default: one in the vault's group)")
    p = cmds.add_parser("imds-identity", help="the managed identity IMDS answers for without client_id")
    p.add_argument("--identity", required=True)

    p = cmds.add_parser("add-certificate", help="register a certificate on an app (certificate credential)")
    p.add_argument("--identity", required=True)
    p.add_argument("--pem", metavar="CERT.pem", help="the certificate (a private key in the file is not sent)")
    p.add_argument("--generate", action="store_true",
                   help="a new self-signed RSA certificate; prints its PEM and private key once")
    p.add_argument("--subject", help="with --generate (default CN=IDENTITY)")
    p = cmds.add_parser("issue-certificate",
                        help="a client certificate from the emulator's test CA (DIR/ca.pem), registered nowhere")
    p.add_argument("--subject", required=True, help='e.g. "CN=app.contoso.com"')
    p.add_argument("--days", type=int, default=365)
    p = cmds.add_parser("trust-subject", help="subject name + issuer: trust certificates with this subject")
    p.add_argument("--identity", required=True)
    p.add_argument("--subject", required=True, help='e.g. "CN=app.contoso.com"')
    p.add_argument("--ca", metavar="FILE", help="the CA (PEM) they must chain to (default: DIR/ca.pem)")
    p = cmds.add_parser("add-federated-credential", help="trust tokens of an OIDC issuer for a subject")
    p.add_argument("--identity", required=True)
    p.add_argument("--subject", required=True, help="e.g. system:serviceaccount:NAMESPACE:NAME")
    p.add_argument("--issuer", help="https URL (default: the emulator's OIDC issuer https://oidc.azkv-emulator.test/)")
    p.add_argument("--audience", help="default api://AzureADTokenExchange")
    p.add_argument("--name", help="credential name (default from the subject)")
    p = cmds.add_parser("issue-federated-token", help="a token from a test OIDC issuer (the workload's token file)")
    p.add_argument("--subject", required=True)
    p.add_argument("--audience", help="default api://AzureADTokenExchange")
    p.add_argument("--lifetime", type=int, help="seconds (default 3600; <= 0: already expired)")
    p.add_argument("--issuer", help="another issuer URL (created on first use, with its own key)")
    p.add_argument("--not-before-offset", type=int, help="nbf = now + N seconds")
    p = cmds.add_parser("app-service", help="the App Service / Functions / Container Apps identity endpoint: "
                                            "new IDENTITY_HEADER secret and default identity (no option: show)")
    p.add_argument("--identity", help="a managed identity (client id, object id or name)")
    p = cmds.add_parser("arc", help="the Azure Arc identity endpoint: the machine's identity (no option: show)")
    p.add_argument("--identity", help="a managed identity (client id, object id or name)")
    p = cmds.add_parser("token-lifetime",
                        help="lifetime of tokens issued from now on by Entra, IMDS, App Service, Arc (no option: show)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--seconds", type=int)
    g.add_argument("--reset", action="store_true", help="back to the defaults")

    p = cmds.add_parser("arm-rbac", help="control-plane RBAC of ARM callers: on, off (no argument: show)")
    p.add_argument("state", nargs="?", choices=["on", "off"])
    p = cmds.add_parser("limits", help="Key Vault's transaction limits per vault, 429 past them "
                                       "(limits.py): on, off (no argument: show)")
    p.add_argument("state", nargs="?", choices=["on", "off"])

    for name, text in (("fault", "fault injection rules (see azkvemu/faults.py)"),
                       ("hostile", "TEST-ONLY hostile vault rules (see azkvemu/hostile.py)")):
        g = cmds.add_parser(name, help=text).add_mutually_exclusive_group()
        g.add_argument("--add", metavar="JSON")
        g.add_argument("--clear", action="store_true")
        g.add_argument("--list", action="store_true")
        if name == "fault":
            g.add_argument("--stats", action="store_true",
                           help="requests per service, injected faults per kind")
            g.add_argument("--seed", type=int,
                           help="reseed the RNG of probabilistic rules and zero the counts")
    p = cmds.add_parser("requests", help="the request log: host, method, path, Authorization sent?")
    p.add_argument("--clear", action="store_true")
    return parser


# Commands that manage a list of rules: admin path and an example rule.
RULE_COMMANDS = {
    "fault": ("/faults", '{"service":"keyvault","status":429,"count":2}'),
    "hostile": ("/hostile", '{"behaviour":"kid_no_version"}'),
}


def _rules(client, args, path, example):
    if args.clear:
        return client.call("DELETE", path)
    if args.add:
        try:
            spec = json.loads(args.add)
        except ValueError:
            raise AdminError(f"--add takes a JSON rule, e.g. '{example}'") from None
        return client.call("POST", path, spec)
    return client.call("GET", path)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.mode == "serve":
        try:
            return serve(args.state_dir, host=args.host, port=args.port,
                         localhost_vault=args.localhost_vault, authority_host=args.authority_host,
                         token_lifetime=args.token_lifetime, default_tenant=args.default_tenant,
                         arm_rbac=args.arm_rbac, arc_token_dir=args.arc_token_dir,
                         issued_token_log=args.issued_token_log, kv_limits=args.kv_limits,
                         workers=args.workers, idle_timeout=args.idle_timeout)
        except (OSError, ValueError) as exc:
            print(f"azkv-emulator: cannot serve: {exc}", file=sys.stderr)
            return 1
    try:
        return run_admin(args)
    except (AdminError, OSError) as exc:
        print(f"azkv-emulator admin: {exc}", file=sys.stderr)
        return 1
