"""Personal numbers in 95598 ticket text: one masking function for every place that shows it.

Mainland mobiles (``1[3-9]`` + 9 digits, optionally ``+86``), landlines (``0xx-xxxxxxxx``) and
resident ID-card numbers (18 digits, the last may be ``X``; old 15-digit ones) are masked for
viewers and in every export; admins see them in full on screen only. Examples::

    13812345678          -> 138****5678
    0531-88886666        -> 0531-****6666
    370102199001011234   -> 3701**********1234
    370102900101123      -> 3701*******1123
"""

from __future__ import annotations

import re

_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{7}(\d{4})(?![0-9A-Za-z])")
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?![0-9A-Za-z])"
)
_LANDLINE = re.compile(r"(?<![0-9A-Za-z])(\(?0\d{2,3}\)?[- ]?)\d{3,4}(\d{4})(?![0-9A-Za-z])")


def mask(text):
    """``text`` with phone and ID-card numbers masked (non-strings pass unchanged)."""
    if not isinstance(text, str) or not text:
        return text
    text = _ID18.sub(lambda m: f"{m[1]}{'*' * 10}{m[2]}", text)
    text = _ID15.sub(lambda m: f"{m[1]}{'*' * 7}{m[2]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[2]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}****{m[2]}", text)


def shown(text, role: str | None = None, export: bool = False):
    """Ticket text as shown to ``role`` (default: the signed-in user's role). Exports are always
    masked; on screen admins see the full text, everyone else the masked one."""
    if export:
        return mask(text)
    if role is None:
        from dashboard.auth import current_role

        role = current_role()
    return text if role == "admin" else mask(text)


def shown_frame(df, columns=("text", "address"), role: str | None = None, export: bool = False):
    """A copy of ``df`` with ``columns`` (those present) passed through :func:`shown`."""
    if role is None and not export:
        from dashboard.auth import current_role

        role = current_role()
    out = df.copy()
    for c in columns:
        if c in out:
            out[c] = [shown(v, role or "viewer", export) for v in out[c]]
    return out
