"""Local emulator of Azure Key Vault (keys), Managed HSM and the Entra ID token endpoint.

Everything here runs on Debian's /usr/bin/python3 with the standard library and
python3-cryptography only, so that tests and demos need nothing from the network.
"""
