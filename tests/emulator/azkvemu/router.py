"""Which emulated service answers a request: decided by the Host header (clients
use the real Azure host names and connect to the emulator), else by path for
requests addressed to the emulator itself (https://127.0.0.1:PORT/...).

  NAME.vault.azure.net (and .vault.azure.cn, .vault.usgovcloudapi.net,
  .managedhsm.azure.net)                -> Key Vault / Managed HSM data plane of vault NAME
  login.microsoftonline.com             -> Entra ID (and the other clouds' login hosts, clouds.py)
  management.azure.com                  -> Azure Resource Manager (arm.py; and the other clouds')
  NAME.cognitiveservices.azure.com      -> Foundry data plane of the account whose custom
                                           subdomain (else name) is NAME (foundry.py)
  169.254.169.254                       -> IMDS managed-identity token endpoint (imds.py)
  oidc.azkv-emulator.test               -> the built-in OIDC issuer of federated tokens (oidc.py)
  localhost / 127.0.0.1 / ::1           -> /_emulator/... admin API, Entra paths, ARM paths
                                           (/subscriptions/..., /providers/...),
                                           /metadata/identity/oauth2/token (IMDS),
                                           /msi/token (App Service, appservice.py),
                                           /_arc/... (Azure Arc agent, arc.py),
                                           /_oidc/... (OIDC issuer, oidc.py),
                                           Key Vault paths for --localhost-vault NAME
An unknown vault name behaves like a host that does not resolve: the TLS
handshake is refused for its SNI (see server.py) and, should a request still
arrive with such a Host, the connection is closed without an answer.
"""

from . import clouds
from .admin import is_admin_path
from .appservice import is_appservice_path
from .arc import is_arc_path
from .arm import is_arm_path
from .foundry import account_for_host
from .entra import is_entra_path
from .imds import IMDS_HOSTS, is_imds_path
from .httpmsg import DropConnection, ServiceError
from .keyvault import resource_for_host, resource_for_vault
from .oidc import OIDC_HOSTS, is_oidc_path

ENTRA_HOSTS = clouds.ENTRA_HOSTS
ARM_HOSTS = clouds.ARM_HOSTS
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


class Router:
    def __init__(self, state, keyvault, entra, admin, faults, localhost_vault=None, arm=None, imds=None,
                 foundry=None, appservice=None, arc=None, oidc=None, hostile=None, limits=None):
        self.state = state
        self.keyvault = keyvault
        self.entra = entra
        self.admin = admin
        self.faults = faults
        self.localhost_vault = localhost_vault
        self.arm = arm
        self.imds = imds
        self.foundry = foundry
        self.appservice = appservice
        self.arc = arc
        self.oidc = oidc
        self.hostile = hostile   # test-only hostile vault (hostile.py)
        self.limits = limits     # Key Vault's service limits, when on (limits.py)

    def known_sni(self, server_name: str) -> bool:
        """False for a vault host name whose vault does not exist (handshake is refused)."""
        vault_name, _ = resource_for_host((server_name or "").lower())
        return vault_name is None or self.state.get_vault(vault_name) is not None

    def route(self, req):
        host = req.hostname
        vault_name, resource = resource_for_host(host)
        if vault_name is not None:
            vault = self.state.get_vault(vault_name)
            if vault is None:
                raise DropConnection()
            return self._service("keyvault", req, lambda: self._keyvault(req, vault, resource))
        account, is_foundry = account_for_host(self.state, host)
        if is_foundry:
            if account is None:
                raise DropConnection()   # an endpoint that does not exist: as a name that does not resolve
            return self._service("foundry", req, lambda: self.foundry.handle(req, account))
        if host in ENTRA_HOSTS:
            return self._service("entra", req, lambda: self.entra.handle(req))
        if host in ARM_HOSTS:
            return self._service("arm", req, lambda: self.arm.handle(req))
        if host in IMDS_HOSTS:
            return self._service("imds", req, lambda: self.imds.handle(req))
        if host in OIDC_HOSTS:
            return self._service("oidc", req, lambda: self.oidc.handle(req))
        if host in LOOPBACK_HOSTS:
            return self._loopback(req)
        return ServiceError(404, "NotFound", f"The emulator does not serve host '{host}'.").response()

    def _loopback(self, req):
        if is_admin_path(req.path):
            return self.admin.handle(req)
        if is_oidc_path(req.path):   # before Entra: /_oidc/.well-known/... also fits /{tenant}/.well-known/...
            return self._service("oidc", req, lambda: self.oidc.handle(req))
        if is_entra_path(req.path):
            return self._service("entra", req, lambda: self.entra.handle(req))
        if is_imds_path(req.path):
            return self._service("imds", req, lambda: self.imds.handle(req))
        if is_appservice_path(req.path):
            return self._service("appservice", req, lambda: self.appservice.handle(req))
        if is_arc_path(req.path):
            return self._service("arc", req, lambda: self.arc.handle(req))
        if is_arm_path(req.path):
            return self._service("arm", req, lambda: self.arm.handle(req))
        if self.localhost_vault:
            vault = self.state.get_vault(self.localhost_vault)
            if vault is not None:
                return self._service("keyvault", req,
                                     lambda: self._keyvault(req, vault, resource_for_vault(vault)))
        return ServiceError(
            404, "NotFound",
            "No vault answers on this host; use a vault host name (NAME.vault.azure.net) "
            "or start the emulator with --localhost-vault NAME.").response()

    def _keyvault(self, req, vault, resource):
        refused = self.limits.admit(req, vault) if self.limits is not None else None
        if refused is not None:
            return refused
        call = lambda: self.keyvault.handle(req, vault, resource)  # noqa: E731
        return self.hostile.respond(req, call) if self.hostile is not None else call()

    def _service(self, service, req, call):
        fault = self.faults.intercept(service, req)
        return call() if fault is None else fault.apply(call)
