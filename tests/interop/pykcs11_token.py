"""What the PyKCS11 interop scripts (envelope.py, softhsm_wrap.py) share: a session on a
token found by its label, and the one key of a class and label on it."""

import PyKCS11


def open_token(module, label, pin=None):
    """(library, read-write session) on the token labelled `label` of the PKCS#11 library
    `module`, logged in with `pin` when one is given. Keep the library referenced while the
    session is in use: PyKCS11 unloads the module with it."""
    lib = PyKCS11.PyKCS11Lib()
    lib.load(module)
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.strip() == label:
            session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
            if pin is not None:
                session.login(pin)
            return lib, session
    raise SystemExit(f"{module}: no token labelled {label}")


def find_key(session, cls, label):
    """The one object of class `cls` labelled `label`; exits when there is not exactly one."""
    found = session.findObjects([(PyKCS11.CKA_CLASS, cls), (PyKCS11.CKA_LABEL, label)])
    if len(found) != 1:
        raise SystemExit(f"{len(found)} objects of class {cls} labelled {label}")
    return found[0]
