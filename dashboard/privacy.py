"""Personal numbers in 95598 ticket text: one masking function for every place that shows it.

Mainland mobiles (``1[3-9]`` + 9 digits, optionally ``+86``), landlines (``0xx-xxxxxxxx``),
resident ID-card numbers (18 digits, the last may be ``X``; old 15-digit ones) and bank-card-like
numbers (16-19 digits) are masked for viewers and in every export, in half- or full-width digits,
with spaces, dots or dashes inside and letters glued on; admins see them in full on screen only.
Examples::

    13812345678          -> 138****5678
    0531-88886666        -> 0531-****6666
    370102199001011234   -> 3701**********1234
    370102900101123      -> 3701*******1123
    １３８.１２３４.５６７８  -> １３８.****.５６７８ (the separators after the first stay)
    6222 0212 3456 7890  -> 6222********7890
"""

from __future__ import annotations

import re

# Full-width digits, X and separators (Chinese input methods) read as their ASCII forms for
# matching; one character for one, so positions in the text stay the same.
_NORMAL = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "Ｘ": "X",
        "ｘ": "x",
        "＋": "+",
        "－": "-",
        "—": "-",
        "–": "-",
        "‐": "-",
        "．": ".",
        "。": "。",
        "\u3000": " ",
        "\u00a0": " ",
        "（": "(",
        "）": ")",
    }
)
_D = r"\d"
# Letters may touch a number ("ID3701...", "NO1381...x"); only a digit (or a star of a number
# masked already) right before or after means it is part of a longer number.
_B, _E = r"(?<![\d*])", r"(?![\d*])"


def _patterns(sep: str) -> list[tuple[re.Pattern, str]]:
    s = f"{sep}?"  # at most one separator between two digits
    return [
        (re.compile(_B + _D + f"(?:{s}{_D}){{16}}{s}[\\dXx]" + _E), "id"),
        (re.compile(_B + _D + f"(?:{s}{_D}){{15,18}}" + _E), "card"),  # 16-19 digits
        (re.compile(_B + _D + f"(?:{s}{_D}){{14}}" + _E), "id"),
        (re.compile(_B + rf"(?:\+?86{s})?1{s}[3-9](?:{s}{_D}){{9}}" + _E), "mobile"),
        (re.compile(_B + rf"\(?0(?:\)?{s}{_D}){{9,11}}" + _E), "landline"),  # 10-12 digits
    ]


# Numbers written with dots or dashes first, then also with spaces: "电话13812345678 3701..."
# is a phone and an ID card, not one 29-digit number.
_PASSES = _patterns("[-.]") + _patterns("[-. ]")


def _hide(out: list[str], norm: list[str], m: re.Match, kind: str) -> None:
    """Mask the match ``m`` (found in the joined ``norm``) in ``out`` and in ``norm``."""
    pos = [m.start() + i for i, c in enumerate(m[0]) if c.isdigit() or c in "Xx"]
    n = len(pos)
    if kind == "mobile":
        first, last, stars, eat_before = n - 8, n - 5, 4, True
    elif kind == "landline":
        text = m[0]
        area = re.match(r"\(?(0\d{2,3})\D", text)
        head = len(area[1]) if area else (3 if text.lstrip("(")[1] in "12" else 4)
        first, last, stars, eat_before = head, n - 5, 4, False
    else:  # ID cards and bank cards: the first and last 4 stay
        first, last, stars, eat_before = 4, n - 5, n - 8, False
    lo, hi = pos[first], pos[last]
    if eat_before and lo > pos[first - 1] + 1:
        lo = pos[first - 1] + 1  # "138-1234-5678" -> "138****5678"
    if hi + 1 < pos[last + 1]:
        hi = pos[last + 1] - 1
    for i in range(lo, hi + 1):
        out[i] = norm[i] = ""
    out[lo], norm[lo] = "*" * stars, "*"


def mask(text):
    """``text`` with phone, ID-card and bank-card numbers masked, in half- or full-width digits,
    with spaces, dots or dashes inside and letters glued on (non-strings pass unchanged)."""
    if not isinstance(text, str) or not text:
        return text
    out = list(text)
    norm = list(text.translate(_NORMAL))
    for pattern, kind in _PASSES:
        # each pass sees the earlier passes' stars; emptied cells keep the positions aligned
        while True:
            joined = "".join(c if c else "\0" for c in norm)
            found = [m for m in pattern.finditer(joined) if "\0" not in m[0]]
            if not found:
                break
            for m in reversed(found):
                _hide(out, norm, m, kind)
    return "".join(out)


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
