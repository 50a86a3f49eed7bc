"""Column presets: the English and Chinese headers of docs/formats.md -> canonical names.

A source's own ``mapping`` (config) is applied first; then every header that matches a preset
alias (case-insensitive, spaces and underscores ignored) is renamed. Unknown headers are kept
(they travel in the quarantined raw record) but never stored.
"""

from __future__ import annotations

import re

import pandas as pd

PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "outages": {
        "outage_id": ("outage_id", "id", "停电编号", "停电事件编号", "outageid"),
        "event_id": ("event_id", "事件编号"),
        "level": ("level", "停电层级"),
        "substation": ("substation", "变电站编号", "变电站"),
        "feeder": ("feeder", "线路编号", "线路", "feeder_id", "circuit"),
        "transformer": ("transformer", "台区编号", "台区", "transformer_id"),
        "start": ("start", "停电时间", "停电开始时间", "dateoff", "start_time", "outage_start"),
        "end": ("end", "送电时间", "复电时间", "dateon", "end_time", "restored"),
        "etr": ("etr", "预计送电时间", "estdateon", "estimated_restoration"),
        "customers": ("customers", "停电户数", "numcustomersout", "customers_out"),
        "cause": ("cause", "停电原因"),
        "planned": ("planned", "计划停电", "是否计划停电"),
        "supply_shortage": ("supply_shortage", "有序用电", "限电"),
        "lon": ("lon", "经度", "longitude", "lng"),
        "lat": ("lat", "纬度", "latitude"),
        "area_text": ("area_text", "停电范围", "area"),
        "region": ("region", "区域", "regionname"),
        "version": ("version", "版本"),
    },
    "voltage": {
        "transformer": ("transformer", "台区编号", "台区", "transformer_id", "meter"),
        "time": ("time", "采集时间", "数据时间", "timestamp"),
        "va": ("va", "a相电压", "ua", "voltage_a"),
        "vb": ("vb", "b相电压", "ub", "voltage_b"),
        "vc": ("vc", "c相电压", "uc", "voltage_c"),
        "kw": ("kw", "有功功率", "p", "power_kw"),
        "date": ("date", "数据日期", "日期"),
        "phase": ("phase", "相别", "相位"),
    },
    "complaints": {
        "ticket_id": ("ticket_id", "工单编号", "工单号"),
        "time": ("time", "受理时间", "received_at"),
        "category": ("category", "业务类型", "诉求类型", "投诉类型"),
        "transformer": ("transformer", "台区编号", "台区"),
        "feeder": ("feeder", "线路编号", "线路"),
        "town": ("town", "乡镇", "供电所"),
        "address": ("address", "地址", "用户地址"),
        "merged_into": ("merged_into", "合并工单", "主工单编号"),
        "reasonable": ("reasonable", "是否合理"),
        "text": ("text", "受理内容", "诉求内容"),
        "version": ("version", "版本"),
    },
    "substations": {
        "substation": ("substation", "变电站编号", "code"),
        "name": ("name", "变电站名称"),
        "voltage_kv": ("voltage_kv", "电压等级"),
        "capacity_mva": ("capacity_mva", "容量", "主变容量"),
        "lon": ("lon", "经度", "longitude"),
        "lat": ("lat", "纬度", "latitude"),
        "town": ("town", "乡镇"),
        "county": ("county", "县公司", "所属县", "县公司编号"),
    },
    "feeders": {
        "feeder": ("feeder", "线路编号", "code"),
        "substation": ("substation", "变电站编号"),
        "name": ("name", "线路名称"),
        "length_km": ("length_km", "线路长度"),
        "conductor": ("conductor", "导线型号"),
        "conductor_mm2": ("conductor_mm2", "导线截面"),
        "year_built": ("year_built", "投运年份"),
        "rated_mva": ("rated_mva", "额定容量"),
        "geometry": ("geometry", "线路坐标", "wkt", "geojson"),
        "voltage_kv": ("voltage_kv", "电压等级"),
    },
    "transformers": {
        "transformer": ("transformer", "台区编号", "code"),
        "feeder": ("feeder", "线路编号"),
        "name": ("name", "台区名称"),
        "kind": ("kind", "类型", "公专变"),
        "kva": ("kva", "容量"),
        "customers": ("customers", "户数", "用户数"),
        "town": ("town", "乡镇"),
        "address": ("address", "地址"),
        "lon": ("lon", "经度", "longitude"),
        "lat": ("lat", "纬度", "latitude"),
        "distance_km": ("distance_km", "供电距离"),
    },
}

_WIDE_POINT = re.compile(r"^(?:p|u|点|v)(\d{1,2})$", re.IGNORECASE)


def header_key(header: str) -> str:
    """The form headers are matched in: lower case, without blanks, ``_``, ``-`` and
    parentheses (ASCII or full-width), so ``"Start Time"``, ``start_time`` and ``开始(时间)``
    style variants of one alias meet."""
    return re.sub(r"[\s_\-()（）]", "", str(header)).lower()


def apply_mapping(
    frame: pd.DataFrame, kind: str, mapping: dict[str, str] | None = None
) -> pd.DataFrame:
    """Rename a raw frame's headers to canonical names (config mapping first, then presets)."""
    renames: dict[str, str] = {}
    taken: set[str] = set()
    for raw, canonical in (mapping or {}).items():
        if raw in frame.columns:
            renames[raw] = canonical
            taken.add(canonical)
    aliases = {
        header_key(alias): canonical
        for canonical, names in PRESETS.get(kind, {}).items()
        for alias in names
    }
    for column in frame.columns:
        if column in renames:
            continue
        canonical = aliases.get(header_key(column))
        if kind == "voltage" and canonical is None:
            match = _WIDE_POINT.match(str(column).strip())
            if match:
                canonical = f"p{int(match.group(1))}"
        if canonical and canonical not in taken:
            renames[column] = canonical
            taken.add(canonical)
    return frame.rename(columns=renames)
