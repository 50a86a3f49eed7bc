"""Translations of values shown in tables (outage causes, complaint categories, reason codes,
run statuses, record kinds, tables, area kinds, upgrade projects): ``tr_map(TABLE, value,
lang)``."""

CAUSES = {
    "weather": ("天气", "weather"),
    "equipment": ("设备故障", "equipment"),
    "vegetation": ("树障", "vegetation"),
    "animal": ("动物", "animal"),
    "third_party": ("外力破坏", "third party"),
    "overload": ("过载", "overload"),
    "planned": ("计划停电", "planned"),
    "supply_shortage": ("有序用电", "supply shortage"),
    "unknown": ("原因不明", "unknown"),
}

CATEGORIES = {
    "outage": ("停电", "outage"),
    "frequent_outage": ("频繁停电", "frequent outage"),
    "low_voltage": ("低电压", "low voltage"),
    "voltage_fluctuation": ("电压波动", "voltage fluctuation"),
    "repair_timeout": ("抢修超时", "repair timeout"),
    "repair_quality": ("抢修质量", "repair quality"),
    "customer_side_fault": ("客户内部故障", "customer-side fault"),
    "power_theft": ("窃电", "power theft"),
    "billing": ("电费", "billing"),
    "service_attitude": ("服务态度", "service attitude"),
    "other": ("其他", "other"),
}

#: quarantine reason codes (collectors/validate REASONS), for the Data page (issue 18)
REASONS = {
    "empty_file": ("文件中没有记录", "the file has no records"),
    "undecodable": (
        "文件编码不是 UTF-8、GBK 或 GB18030 文本",
        "the file is not text in a known encoding",
    ),
    "missing_column": ("缺少必需的列", "a required column is missing"),
    "duplicate_header": ("有两列表头相同", "two columns have the same header"),
    "malformed_file": ("无法按 CSV、XLSX 或 JSON 解析文件", "the file cannot be parsed"),
    "file_too_large": ("文件超过大小限制", "the file exceeds the size limit"),
    "zip_bomb": ("XLSX 解压后超过大小限制", "the XLSX archive expands beyond the size limit"),
    "unknown_kind": ("无法从文件名或列判断记录类型", "the kind of records cannot be told"),
    "path_outside_folder": ("文件不在数据源目录内", "the file lies outside the source folder"),
    "too_many_columns": ("表头列数超过上限", "the header has too many columns"),
    "records_path_not_found": ("JSON 中找不到记录列表", "the JSON document has no list of records"),
    "sheet_not_found": ("XLSX 中没有配置的工作表", "the XLSX workbook has no such sheet"),
    "unreadable_file": ("文件无法打开或读取", "the file cannot be opened or read"),
    "missing_id": ("记录没有编号", "the record has no id"),
    "id_too_long": ("编号过长", "the id is too long"),
    "formula_like_id": ("编号以 =、+、-、@ 开头（疑似表格公式）", "the id looks like a formula"),
    "huge_field": ("文本字段过长", "a text field is too long"),
    "truncated_row": ("文件最后一行不完整", "the last row of the file is cut off"),
    "bad_row_shape": ("该行字段数与表头不一致", "the row has more or fewer fields than the header"),
    "not_an_object": ("JSON 列表项不是对象", "the item of a JSON list is not an object"),
    "id_from_blank": ("用于生成编号的列为空", "a column the derived id is made from is blank"),
    "combine_blank_part": ("合并的列中有空值（如只有日期没有时间）", "a combined column is blank"),
    "missing_time": ("记录没有时间", "the record has no time"),
    "bad_time": ("时间无法解析", "a time cannot be parsed"),
    "ambiguous_time": ("日期的日月顺序不明确（如 01/07/2025）", "the date is ambiguous"),
    "time_nonexistent_dst": ("本地时间不存在（夏令时跳过）", "the local time does not exist"),
    "time_ambiguous_dst": ("本地时间出现两次且无时区", "the local time occurs twice"),
    "time_in_future": ("时间晚于当前时间", "the time lies in the future"),
    "time_too_old": ("时间早于1990年", "the time is before 1990"),
    "bad_version": ("版本既不是数字也不是时间", "the version is neither a number nor a time"),
    "unknown_substation": ("变电站不在电网模型中", "the substation is not in the network"),
    "unknown_feeder": ("线路不在电网模型中", "the feeder is not in the network"),
    "unknown_transformer": ("台区不在电网模型中", "the transformer area is not in the network"),
    "feeder_mismatch": ("台区属于另一条线路", "the area belongs to another feeder"),
    "bad_boolean": ("是/否字段取值无效", "a yes/no field has another value"),
    "end_before_start": ("送电时间早于停电时间", "the end is before the start"),
    "bad_customers": ("户数不是整数", "customers is not a whole number"),
    "negative_customers": ("户数为负", "customers is negative"),
    "absurd_customers": ("户数大得不合理", "customers is implausibly large"),
    "customers_exceed_served": (
        "停电户数超过线路或台区的供电户数",
        "more customers out than served",
    ),
    "bad_coordinate": ("经纬度不是数字", "longitude or latitude is not a number"),
    "bad_level": ("层级不是变电站、线路或台区", "level is not substation, feeder or transformer"),
    "voltage_missing": ("没有相电压", "no phase voltage given"),
    "voltage_not_numeric": ("电压不是数字", "a voltage is not a number"),
    "voltage_zero": ("相电压为0（表计或接线故障）", "a phase voltage is 0"),
    "voltage_out_of_range": ("电压超出 100–300 V", "a voltage is outside 100-300 V"),
    "voltage_out_of_level_range": (
        "电压超出该电压等级的合理范围",
        "a voltage is outside its level's range",
    ),
    "bad_nominal": ("额定电压不是正数", "the nominal voltage is not a positive number"),
    "voltage_stuck": ("表计多次重复相同读数（疑似卡数）", "the meter repeated the same values"),
    "bad_power": ("有功功率数值不合理", "active power is not plausible"),
    "conflicting_duplicate": (
        "同一台区同一时间出现两条不同记录",
        "the same area and time appear twice",
    ),
    "bad_phase": ("相别不是 A、B、C 或 P", "phase is not A, B, C or P"),
    "bad_date": ("日曲线的日期无法解析", "the date of a daily curve cannot be parsed"),
    "bad_point_count": ("日曲线点数不是24或96", "a daily curve does not have 24 or 96 points"),
    "unknown_category": ("投诉类别不在类别表中", "the category is not a complaint category"),
    "bad_geometry": (
        "线路几何既不是 WKT 也不是 GeoJSON",
        "the geometry is neither WKT nor GeoJSON",
    ),
    "bad_number": ("数值属性不是数字或为负", "a numeric attribute is not a number or is negative"),
    "bad_kind": ("台区类型不是公变/专变", "kind is not public/dedicated"),
}

#: collector run statuses and database tables, for the Data page (issue 18)
STATUSES = {
    "ok": ("正常", "ok"),
    "partial": ("部分成功", "partial"),
    "failed": ("失败", "failed"),
    "abandoned": ("已中断", "abandoned"),
    "running": ("运行中", "running"),
    "locked": ("已锁定", "locked"),
    "stale": ("已过时", "STALE"),
}
RECORD_KINDS = {
    "outages": ("停电记录", "outages"),
    "complaints": ("投诉工单", "complaints"),
    "voltage": ("电压数据", "voltage"),
    "network": ("电网模型", "network"),
    "substations": ("变电站", "substations"),
    "feeders": ("线路", "feeders"),
    "transformers": ("台区", "transformers"),
}
TABLES = {
    "substations": ("变电站", "substations"),
    "feeders": ("线路", "feeders"),
    "transformers": ("台区", "transformers"),
    "outages": ("停电记录", "outages"),
    "complaints": ("投诉工单", "complaints"),
    "voltage_readings": ("电压读数", "voltage readings"),
    "voltage_hourly": ("电压小时汇总", "voltage hourly rollups"),
    "voltage_daily": ("电压日汇总", "voltage daily rollups"),
    "collector_runs": ("采集运行记录", "collector runs"),
    "quarantine": ("隔离记录", "quarantined records"),
}

#: transformer area kinds (issue 18)
AREA_KINDS = {
    "public": ("公用", "public"),
    "dedicated": ("专用", "dedicated"),
}

PROJECTS = {
    "35kv_capacity_upgrade": ("主变增容", "35 kV capacity upgrade"),
    "new_substation_point": ("新建变电站布点", "New 35 kV substation point"),
    "reconductoring": ("导线改造", "10 kV reconductoring"),
    "feeder_split": ("线路切改/分割", "10 kV feeder split"),
    "new_tie": ("新建联络", "10 kV new tie line"),
    "insulation_or_automation": ("绝缘化/配电自动化", "Insulation or distribution automation"),
    "area_split_or_capacity": ("台区切改/增容", "Area split or transformer capacity"),
    "none": ("暂无需改造", "No project needed"),
}
