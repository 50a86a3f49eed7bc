"""Counties (issue 19): the counties of a province deployment, and any canonical frame narrowed
to one county.

A county owns its substations (``substations.county_id``), their feeders and those feeders'
transformer areas. A record (outage, complaint, reading, planned outage) belongs to a county
when the substation, feeder or area it names is the county's; a record naming none of them
belongs to the county its source is bound to (config ``county = "..."`` on the source), else
to the province only. The narrowing is plain pandas on the frames ``db.queries`` returns, so
the dashboard narrows its cached province frames and the command line the frames it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, func, select

from db.models import County, Substation

COUNTY_COLUMNS = ("code", "name", "name_en", "substations")


def counties(engine: Engine) -> pd.DataFrame:
    """The counties: ``code, name, name_en, substations`` (how many substations are its),
    ordered by id (the order config names them in)."""
    c, s = County, Substation
    stmt = (
        select(c.code, c.name, c.name_en, func.count(s.id).label("substations"))
        .join(s, s.county_id == c.id, isouter=True)
        .group_by(c.id, c.code, c.name, c.name_en)
        .order_by(c.id)
    )
    with engine.connect() as conn:
        return pd.read_sql(stmt, conn)


@dataclass(frozen=True)
class Members:
    """What one county owns: codes of its substations, feeders and areas, and the sources
    bound to it."""

    county: str
    substations: frozenset[str]
    feeders: frozenset[str]
    transformers: frozenset[str]
    sources: frozenset[str] = frozenset()


def members(
    net: Mapping[str, pd.DataFrame], county: str, source_counties: Mapping[str, str] | None = None
) -> Members:
    """The county's members in ``net`` (``db.queries.network``: substations carry ``county``)."""
    subs = net["substations"]
    own = subs.loc[subs.get("county", pd.Series(index=subs.index, dtype=object)) == county]
    sub_codes = frozenset(own["substation"])
    feeders = net["feeders"]
    feeder_codes = frozenset(feeders.loc[feeders["substation"].isin(sub_codes), "feeder"])
    areas = net["transformers"]
    area_codes = frozenset(areas.loc[areas["feeder"].isin(feeder_codes), "transformer"])
    bound = frozenset(s for s, c in (source_counties or {}).items() if c == county)
    return Members(county, sub_codes, feeder_codes, area_codes, bound)


def county_network(net: Mapping[str, pd.DataFrame], m: Members) -> dict[str, pd.DataFrame]:
    """The network of one county: its substations, their feeders and their areas."""
    return {
        "substations": _keep(net["substations"], net["substations"]["substation"], m.substations),
        "feeders": _keep(net["feeders"], net["feeders"]["feeder"], m.feeders),
        "transformers": _keep(
            net["transformers"], net["transformers"]["transformer"], m.transformers
        ),
    }


def county_records(frame: pd.DataFrame, m: Members) -> pd.DataFrame:
    """The rows of ``frame`` (outages, complaints, planned outages, voltage rollups) that
    belong to the county: by the area, feeder or substation they name, else by their source."""
    if frame.empty:
        return frame
    named = pd.Series(False, index=frame.index)
    mine = pd.Series(False, index=frame.index)
    for column, codes in (
        ("transformer", m.transformers),
        ("feeder", m.feeders),
        ("substation", m.substations),
    ):
        if column in frame:
            values = frame[column]
            named |= values.notna()
            mine |= values.isin(codes)
    if "source" in frame and m.sources:
        mine |= ~named & frame["source"].isin(m.sources)
    return frame.loc[mine.to_numpy()].reset_index(drop=True)


def _keep(frame: pd.DataFrame, codes: pd.Series, wanted: frozenset[str]) -> pd.DataFrame:
    return frame.loc[codes.isin(wanted).to_numpy()].reset_index(drop=True)
