"""Small helpers shared by every part of the emulator."""

import base64
import binascii
import datetime
import hmac
import json
import os
import re
import tempfile
import time
import uuid

_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def b64url(data: bytes) -> str:
    """Base64url without padding: the only form Key Vault and JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url, tolerating missing padding (what every client sends).

    Raises ValueError for anything that is not base64url, so callers can turn it
    into the service's BadParameter answer.
    """
    if not isinstance(text, str) or not _B64URL_RE.match(text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def int_to_b64url(value: int, length: int = 0) -> str:
    """Big-endian unsigned integer as base64url; `length` pads to a fixed size (EC x/y)."""
    size = max(length, (value.bit_length() + 7) // 8, 1)
    return b64url(value.to_bytes(size, "big"))


def b64url_to_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


# The time shown for what the emulator has no time of (built-in role definitions, records
# older than the field), in ARM's seven-digit form.
EPOCH_ISO = "2020-01-01T00:00:00.0000000Z"


def now_iso() -> str:
    """The current time as ARM's timestamps show it (systemData, createdOn): UTC, ISO 8601, Z."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_guid(text) -> bool:
    """Whether text is a GUID in its 8-4-4-4-12 hex form (role assignment names)."""
    return isinstance(text, str) and _GUID_RE.match(text) is not None


def now() -> int:
    """Unix seconds; Key Vault attributes are whole seconds."""
    return int(time.time())


def new_version() -> str:
    """Key versions are 32 lowercase hex characters, like the service's."""
    return uuid.uuid4().hex


def new_uuid() -> str:
    return str(uuid.uuid4())


def json_bytes(obj) -> bytes:
    """Compact JSON, as the service sends it (no spaces after separators)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def atomic_write(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write a file so readers never see it half-written: temp file, then rename.

    No fsync: the state is rewritten on every change and surviving a power cut
    is not worth the milliseconds each fsync costs a test run."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def same_secret(given, expected) -> bool:
    """Compare a presented secret with the expected one in constant time (None never matches)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
