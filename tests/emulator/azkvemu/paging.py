"""Key Vault list paging: `maxresults` (1..25), opaque `$skiptoken`, absolute `nextLink`.

The service's nextLink always names the port (":443") and puts api-version
first, then $skiptoken, then maxresults when the client gave one; the last page
has "nextLink": null. The skiptoken is base64url JSON {"NextMarker","TargetLocation"}
like the real one; its marker is simply the sort key of the last item returned,
so paging stays correct when items are added between pages.
"""

import base64
import json

from .httpmsg import ServiceError
from .util import b64url, b64url_decode

MAX_PAGE = 25


def page_size(query: dict) -> int:
    raw = query.get("maxresults")
    if raw is None or raw == "":
        return MAX_PAGE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise ServiceError(400, "BadParameter",
                           f"Invalid value '{raw}' for parameter 'maxresults'; it must be an integer between 1 and 25.")
    # Larger requests are served 25 at a time, as the service does.
    return min(size, MAX_PAGE)


def encode_token(marker: str) -> str:
    inner = base64.b64encode(marker.encode("utf-8")).decode("ascii")
    doc = {"NextMarker": f"2!{len(inner)}!{inner}", "TargetLocation": 0}
    return b64url(json.dumps(doc, separators=(",", ":")).encode("utf-8"))


def decode_token(token: str) -> str:
    try:
        doc = json.loads(b64url_decode(token))
        inner = doc["NextMarker"].split("!", 2)[2]
        return base64.b64decode(inner).decode("utf-8")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ServiceError(400, "BadParameter", "The provided $skiptoken is invalid.") from exc


def paginate(req, items, sort_key, render) -> dict:
    """One page of `items` (already sorted by `sort_key`) as {"value","nextLink"}."""
    size = page_size(req.query)
    token = req.query.get("$skiptoken")
    if token:
        marker = decode_token(token)
        items = [it for it in items if sort_key(it) > marker]
    page, rest = items[:size], items[size:]
    next_link = None
    if rest:
        host = req.hostname if ":" not in req.hostname else f"[{req.hostname}]"
        port = req.host_port or 443
        next_link = (f"https://{host}:{port}{req.path}?api-version={req.query.get('api-version', '')}"
                     f"&$skiptoken={encode_token(sort_key(page[-1]))}")
        if req.query.get("maxresults"):
            next_link += f"&maxresults={req.query['maxresults']}"
    return {"value": [render(it) for it in page], "nextLink": next_link}
