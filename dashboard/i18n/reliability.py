"""The reliability page's labels (issues 15 and 18): indices with units, the period rule,
Major Event Days."""

LABELS: dict[str, tuple[str, str]] = {
    # reliability
    "rel.title": ("可靠性与电压质量", "Reliability and voltage"),
    "rel.monthly": ("系统月度指标", "System indices by month"),
    "rel.daily": ("日SAIDI（红色为重大事件日）", "Daily SAIDI (red: major event days)"),
    "rel.by_sub": ("各变电站指标", "Indices by substation"),
    "rel.voltage": ("电压合格率趋势", "Voltage compliance trend"),
    "rel.with_med": ("含重大事件日", "with MED"),
    "rel.ex_med": ("剔除重大事件日", "without MED"),
    "rel.med_note": (
        "重大事件日阈值基于{years}年历史",
        "MED threshold from {years} years of history",
    ),
    "rel.med_none": (
        "历史数据不足，无法计算重大事件日阈值",
        "Not enough history for a MED threshold",
    ),
    "rel.rs1": ("RS-1 供电可靠率", "RS-1"),
    "rel.rs3": ("RS-3 供电可靠率", "RS-3"),
    # issue 15 / 18: the reliability page's indices (named, with units), period rule and T_MED
    "rel.h.served": ("用户数（户）", "Customers served"),
    "rel.h.saifi": ("SAIFI 平均停电频率（次/户）", "SAIFI (interruptions per customer)"),
    "rel.h.saidi": ("SAIDI 平均停电时间（分钟/户）", "SAIDI (minutes per customer)"),
    "rel.h.caidi": ("CAIDI 每次停电平均时长（分钟）", "CAIDI (minutes per interruption)"),
    "rel.h.saidi_ex_med": (
        "SAIDI 剔除重大事件日（分钟/户）",
        "SAIDI without major event days (minutes per customer)",
    ),
    "rel.h.asai": ("ASAI 平均供电可用率（%）", "ASAI availability (%)"),
    "rel.h.rs1": ("RS-1 供电可靠率（%）", "RS-1 reliability (%)"),
    "rel.h.rs3": (
        "RS-3 供电可靠率，不计限电（%）",
        "RS-3 reliability, supply shortage excluded (%)",
    ),
    "rel.h.maifi": ("MAIFI 瞬时停电频率（次/户）", "MAIFI (momentary interruptions per customer)"),
    "rel.h.open": ("未复电停电（条）", "Open outages (records)"),
    "rel.counting": ("统计口径", "How these figures are counted"),
    "rel.rule": ("时段口径", "Period rule"),
    "rel.rule.start": (
        "按开始时刻：每次停电整次计入其开始的日期和时段（IEEE 1366 日统计口径）",
        "start: each interruption charged whole to the day and period it starts in "
        "(IEEE 1366 daily accounting)",
    ),
    "rel.rule.clip": (
        "按时段截取：每次停电只计落在时段内的分钟",
        "clip: only the minutes of each interruption inside the period",
    ),
    "rel.base": ("用户数来源", "Customers served from"),
    "rel.base.network": ("电网台账（各台区户数）", "the network (customers per transformer area)"),
    "rel.base.config": ("配置文件 [indices] customers_served", "config [indices] customers_served"),
    "rel.base.none": (
        "未知：台账无户数，请在配置文件 [indices] 中设置 customers_served",
        "unknown: the network has no customer counts; set customers_served in [indices]",
    ),
    "rel.tmed": ("重大事件日阈值 T_MED", "Major event day threshold T_MED"),
    "rel.tmed.value": ("{value} 分钟/户·日", "{value} minutes per customer per day"),
    "rel.tmed.history": (
        "（2.5β 法，基于{years}年历史）",
        " (2.5β method, {years} years of history)",
    ),
    "rel.tmed.provisional": (
        "（暂定：本期之前仅有{days}天历史，不足一年，由本期数据计算）",
        " (provisional: only {days} days of history before the period, less than a year; "
        "computed from the period itself)",
    ),
    "rel.tmed.none": (
        "无：有停电的日数太少，无法计算阈值",
        "none: too few days with interruptions for a threshold",
    ),
    "rel.tmed.mark": ("暂定", "provisional"),
    "rel.med_days": ("重大事件日", "Major event days"),
    "rel.med_days.none": ("无", "none"),
    "rel.open": (
        "未复电停电（计至当前或时段末）",
        "Open outages (counted up to now or the period end)",
    ),
    "rel.no_customers": (
        "无用户数的停电（按 0 户计入）",
        "Outages without a customer count (counted as 0 customers)",
    ),
    "rel.split": (
        "系统指标：含/剔除重大事件日，计划/非计划停电",
        "System indices with and without major event days, planned and unplanned",
    ),
    "rel.c.index": ("指标", "Index"),
    "rel.c.all": ("全部", "All"),
    "rel.c.all_ex": ("全部，剔除重大事件日", "All, without MEDs"),
    "rel.c.planned": ("计划停电", "Planned"),
    "rel.c.planned_ex": ("计划，剔除重大事件日", "Planned, without MEDs"),
    "rel.c.unplanned": ("非计划停电", "Unplanned"),
    "rel.c.unplanned_ex": ("非计划，剔除重大事件日", "Unplanned, without MEDs"),
}
