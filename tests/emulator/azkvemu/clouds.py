"""The Azure clouds the emulator answers for: one row each, with the host names and token
audiences that differ between the public cloud, Azure China (21Vianet) and Azure US
Government. Every host and audience list of the emulator is derived from this table.

Source: `az cloud show --name NAME` (endpoints.activeDirectory, resourceManager,
activeDirectoryResourceId; suffixes.keyvaultDns, mhsmDns) and Microsoft's developer guides
for Azure China and Azure Government (learn.microsoft.com/azure/china/resources-developer-guide,
learn.microsoft.com/azure/azure-government/compare-azure-government-global-azure): Key Vault
is vault.azure.cn / vault.usgovcloudapi.net with those audiences, Entra ID is
login.chinacloudapi.cn / login.microsoftonline.us, Resource Manager
management.chinacloudapi.cn / management.usgovcloudapi.net, which accept tokens for their own
endpoint and their management.core.* (classic) audience.
"""

CLOUDS = [
    {"name": "AzureCloud", "login": "login.microsoftonline.com", "arm": "management.azure.com",
     "arm_core": "management.core.windows.net", "vault": "vault.azure.net",
     "hsm": "managedhsm.azure.net"},
    {"name": "AzureChinaCloud", "login": "login.chinacloudapi.cn", "arm": "management.chinacloudapi.cn",
     "arm_core": "management.core.chinacloudapi.cn", "vault": "vault.azure.cn",
     "hsm": "managedhsm.azure.cn"},
    {"name": "AzureUSGovernment", "login": "login.microsoftonline.us",
     "arm": "management.usgovcloudapi.net", "arm_core": "management.core.usgovcloudapi.net",
     "vault": "vault.usgovcloudapi.net", "hsm": "managedhsm.usgovcloudapi.net"},
]
PUBLIC = CLOUDS[0]


def _audiences(host):
    return {f"https://{host}", f"https://{host}/"}


# Host suffix of a vault or Managed HSM -> (the token audience it expects, its cloud).
VAULT_SUFFIXES = {}
for _c in CLOUDS:
    VAULT_SUFFIXES["." + _c["vault"]] = (f"https://{_c['vault']}", _c)
    VAULT_SUFFIXES["." + _c["hsm"]] = (f"https://{_c['hsm']}", _c)

ENTRA_HOSTS = {c["login"] for c in CLOUDS}
ARM_HOSTS = {c["arm"]: c for c in CLOUDS}


def arm_audiences(cloud) -> set:
    """The audiences Resource Manager of `cloud` accepts, with and without the slash."""
    return _audiences(cloud["arm"]) | _audiences(cloud["arm_core"])


# Every resource a token may be asked for (Entra, IMDS, App Service, Arc).
TOKEN_RESOURCES = set()
for _c in CLOUDS:
    TOKEN_RESOURCES |= {f"https://{_c['vault']}", f"https://{_c['hsm']}"} | arm_audiences(_c)
TOKEN_RESOURCES |= {"https://storage.azure.com", "https://graph.microsoft.com",
                    "https://cognitiveservices.azure.com"}

# The server certificate's names for the clouds' hosts.
DNS_NAMES = []
for _c in CLOUDS:
    DNS_NAMES += [f"*.{_c['vault']}", f"*.{_c['hsm']}", _c["login"], _c["arm"]]


def cloud_of_login(host: str):
    return next((c for c in CLOUDS if c["login"] == host), None)
