"""Route tables: rows of (method, path pattern, handler) that a service dispatches through,
so that a new operation is a row plus a handler.

A pattern is a regular expression matched against the whole path; its named groups are
the handler's keyword arguments (None for an optional group that did not match). The
first row whose pattern and method both match wins, so a specific path goes before a
general one that would also match it (/keys/restore before /keys/{name}). A row whose
method is ANY takes every method: its handler answers the ones it does not serve.
What the handler is (a bound method, a method's name, ...) is the service's affair.
"""

import re
from urllib.parse import unquote

ANY = "*"


class Routes:
    def __init__(self, rows, ignore_case=True, unquote_params=False):
        """`ignore_case`: paths match in any case (Azure's services do; the admin API does
        not). `unquote_params`: percent-decode the parameters (ARM names, admin names)."""
        flags = re.I if ignore_case else 0
        self._rows = [(method, re.compile(f"^{pattern}$", flags), handler) for method, pattern, handler in rows]
        self._unquote = unquote_params

    def match(self, method: str, path: str):
        """(handler, params) of the first row matching method and path, else None."""
        for row_method, pattern, handler in self._rows:
            m = pattern.match(path)
            if m and row_method in (method, ANY):
                params = m.groupdict()
                if self._unquote:
                    params = {k: unquote(v) if v else v for k, v in params.items()}
                return handler, params
        return None

    def knows(self, path: str) -> bool:
        """Whether some row matches path with another method (a miss is then a 405)."""
        return any(pattern.match(path) for _, pattern, _ in self._rows)
