"""The feeder map's colour classes: quintile classes of a measure's values (repeated breaks
merged), their colours on the severity scale, and the legend's names of the classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.components.common import SEVERITY
from dashboard.i18n import fmt_num, tr


def value_classes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Colour class of each value (-1: no value) and the number of classes: quintile breaks of
    the finite values, repeated breaks merged (many feeders at 0 make fewer, wider classes).
    When a fifth of the feeders or more share the lowest value (no low-voltage day, say), that
    value is a class of its own and the rest are split by their own quartiles: four feeders
    in five at 0 must not paint the fifth, with 110 low-voltage days, in the same colour."""
    out = np.full(len(values), -1)
    ok = np.isfinite(values)
    if not ok.any():
        return out, 0
    v = values[ok]
    low = v.min()
    # at the lowest value: equal to it within a thousandth of the range (a score of 0.00001 is
    # a score of 0 on a legend that shows four decimals at most)
    at_low = v <= low + 1e-3 * (v.max() - low)
    above = v[~at_low]
    if len(above) and np.mean(at_low) >= 0.2:
        edges = np.unique(np.concatenate([[above.min()], np.quantile(above, [0.25, 0.5, 0.75])]))
    else:
        edges = np.unique(np.quantile(v, [0.2, 0.4, 0.6, 0.8]))
    edges = edges[(edges > low) & (edges <= v.max())]
    cls = np.searchsorted(edges, v, side="right")
    # interpolated breaks can leave a class empty (values 1, 2, 10): number only those used
    used, cls = np.unique(cls, return_inverse=True)
    out[ok] = cls
    return out, len(used)


def class_colour(cls: int, n: int, only_value: float | None = None) -> str:
    """The colour of class ``cls`` of ``n``, spread over the whole severity scale (grey: no
    value). One class alone is blue when its value is 0 (nothing bad), else the middle."""
    if cls < 0:
        return NO_VALUE
    if n <= 1:
        return SEVERITY[0] if not only_value else SEVERITY[2]
    return SEVERITY[round(cls * (len(SEVERITY) - 1) / (n - 1))]


NO_VALUE = "#9e9e9e"


DIGITS = {"saifi": 2, "low_voltage_days": 0}


@dataclass(frozen=True)
class Classes:
    """The feeders' values of the measure and their colour classes."""

    values: np.ndarray
    classes: np.ndarray
    n: int
    #: the value of the only class, when there is one class (see :func:`class_colour`)
    only: float | None
    #: decimals of the feeders' hover texts, and of the legend's class ranges (enough that
    #: neighbouring classes' ranges read apart: 0.03 is not "0.0", up to four)
    digits: int
    legend_digits: int

    @classmethod
    def of(cls, values: np.ndarray, measure: str) -> Classes:
        classes, n = value_classes(values)
        finite = values[np.isfinite(values)]
        digits = DIGITS.get(measure, 1)
        lows = [float(np.nanmin(values[classes == c])) for c in range(n)]
        highs = [float(np.nanmax(values[classes == c])) for c in range(n)]
        legend_digits = digits
        # as many decimals as it takes for each class to end below where the next one starts
        # (0.03 is not "0.0"); a class's own spread needs none (0 and 0.00002 both read "0.0")
        while legend_digits < 4 and any(
            round(highs[c], legend_digits) >= round(lows[c + 1], legend_digits)
            for c in range(n - 1)
        ):
            legend_digits += 1
        only = float(finite[0]) if n == 1 else None
        return cls(values, classes, n, only, digits, legend_digits)

    def name(self, cls: int, lang: str) -> str:
        """The legend's name of class ``cls``: the range of its feeders' values."""
        if cls < 0:
            return tr("map.no_value", lang)
        in_class = self.values[self.classes == cls]
        lo, hi = np.nanmin(in_class), np.nanmax(in_class)
        d = self.legend_digits
        if fmt_num(lo, d) == fmt_num(hi, d):
            return fmt_num(lo, d)
        return f"{fmt_num(lo, d)} – {fmt_num(hi, d)}"
