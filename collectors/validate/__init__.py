"""Vectorised validation of canonical raw records into storable rows, with reasons for the rest.

Every check works on whole columns (pandas), never row by row. A record fails with the FIRST
reason found, in the order the checks are written; the reason codes are listed in REASONS and in
docs/formats.md. Conversions that keep a record (kV or line-to-line voltages, a (0, 0) point)
are counted in ``notes`` instead.
"""

from .checks import Checked, Context, Rejects, raw_json
from .network import parse_geometry, validate_feeders, validate_substations, validate_transformers
from .reasons import CATEGORY_NAMES, REASONS, REQUIRED_COLUMNS, InputRefused, check_columns
from .records import validate_complaints, validate_outages
from .voltage import validate_voltage, wide_to_long

__all__ = [
    "CATEGORY_NAMES",
    "REASONS",
    "REQUIRED_COLUMNS",
    "VALIDATORS",
    "Checked",
    "Context",
    "InputRefused",
    "Rejects",
    "check_columns",
    "parse_geometry",
    "raw_json",
    "validate_complaints",
    "validate_feeders",
    "validate_outages",
    "validate_substations",
    "validate_transformers",
    "validate_voltage",
    "wide_to_long",
]


VALIDATORS = {
    "outages": validate_outages,
    "complaints": validate_complaints,
    "voltage": validate_voltage,
    "substations": validate_substations,
    "feeders": validate_feeders,
    "transformers": validate_transformers,
}
