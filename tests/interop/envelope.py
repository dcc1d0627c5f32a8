#!/usr/bin/python3
"""Envelope encryption through the module with PyKCS11 (python3-pykcs11).

    envelope.py MODULE TOKEN_LABEL KEY_LABEL HASH

Generates a session AES-256 data key, encrypts a message with AES-GCM,
wraps the data key with the vault key's public half (CKM_RSA_PKCS_OAEP with
HASH, sha1 or sha256, and the matching MGF1), unwraps it with the vault key's
private half (the vault's unwrapkey), decrypts with the unwrapped key and
compares. Prints what it did; exits non-zero on any failure.
"""
import os
import sys

import PyKCS11

from pykcs11_token import find_key, open_token

HASHES = {
    "sha1": (PyKCS11.CKM_SHA_1, PyKCS11.CKG_MGF1_SHA1, "RSA-OAEP"),
    "sha256": (PyKCS11.CKM_SHA256, PyKCS11.CKG_MGF1_SHA256, "RSA-OAEP-256"),
}


def main():
    module, token, key_label, hash_name = sys.argv[1:5]
    hash_alg, mgf, vault_alg = HASHES[hash_name]
    _lib, session = open_token(module, token)
    pub = find_key(session, PyKCS11.CKO_PUBLIC_KEY, key_label)
    priv = find_key(session, PyKCS11.CKO_PRIVATE_KEY, key_label)

    # 1. A fresh data key, never seen in clear by this program.
    dek = session.generateKey([
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
        (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_AES),
        (PyKCS11.CKA_VALUE_LEN, 32),
        (PyKCS11.CKA_TOKEN, PyKCS11.CK_FALSE),
        (PyKCS11.CKA_ENCRYPT, PyKCS11.CK_TRUE),
        (PyKCS11.CKA_DECRYPT, PyKCS11.CK_TRUE),
        (PyKCS11.CKA_EXTRACTABLE, PyKCS11.CK_TRUE),
        (PyKCS11.CKA_SENSITIVE, PyKCS11.CK_TRUE),
    ], PyKCS11.MechanismAESGENERATEKEY)

    # 2. The payload, sealed with AES-GCM under the data key.
    message = os.urandom(3000)
    iv = session.generateRandom(12)
    aad = b"azkv-pkcs11 envelope"
    gcm = PyKCS11.AES_GCM_Mechanism(iv, aad, 128)
    sealed = bytes(session.encrypt(dek, message, gcm))
    assert len(sealed) == len(message) + 16, f"GCM output {len(sealed)} bytes"

    # 3. The data key wrapped by the vault key's public half (locally).
    oaep = PyKCS11.RSAOAEPMechanism(hash_alg, mgf)
    wrapped = bytes(session.wrapKey(pub, dek, oaep))
    bits = session.getAttributeValue(pub, [PyKCS11.CKA_MODULUS_BITS])[0]
    assert len(wrapped) * 8 == bits, f"wrapped key {len(wrapped)} bytes for RSA-{bits}"
    session.destroyObject(dek)

    # 4. Unwrapped by the vault (unwrapkey with the private half).
    opened_key = session.unwrapKey(priv, wrapped, [
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
        (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_AES),
        (PyKCS11.CKA_TOKEN, PyKCS11.CK_FALSE),
        (PyKCS11.CKA_DECRYPT, PyKCS11.CK_TRUE),
    ], oaep)
    length = session.getAttributeValue(opened_key, [PyKCS11.CKA_VALUE_LEN])[0]
    assert length == 32, f"unwrapped key of {length} bytes"

    # 5. The payload opens with the unwrapped key, and a tampered one does not.
    opened = bytes(session.decrypt(opened_key, sealed, gcm))
    assert opened == message, "decrypted message differs"
    tampered = bytearray(sealed)
    tampered[7] ^= 1
    try:
        session.decrypt(opened_key, bytes(tampered), gcm)
        raise SystemExit("a tampered message decrypted")
    except PyKCS11.PyKCS11Error as e:
        assert e.value == PyKCS11.CKR_ENCRYPTED_DATA_INVALID, f"tampered: {e}"

    print(f"{key_label} RSA-{bits} {vault_alg}: {len(message)}-byte message sealed with "
          f"AES-256-GCM, data key wrapped to {len(wrapped)} bytes, unwrapped by the vault, "
          "message opened; tampered copy refused with CKR_ENCRYPTED_DATA_INVALID")
    session.closeSession()
    return 0


if __name__ == "__main__":
    sys.exit(main())
