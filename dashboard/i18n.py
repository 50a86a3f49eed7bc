"""Chinese (default) and English labels, and number/date formats per language.

``tr(key, lang)`` falls back to the key itself so a missing label shows up on screen, not as an
error. Formats: Chinese dates read ``11月27日 13:05``, English ``27 Nov 13:05``; both group
thousands with commas (what Chinese utility reports use in tables).
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

LANGS = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    # shell
    "nav.live": ("实时停电", "Live"),
    "nav.map": ("线路地图", "Map"),
    "nav.priorities": ("改造优先级", "Priorities"),
    "nav.reliability": ("可靠性与电压", "Reliability"),
    "nav.data": ("数据", "Data"),
    "nav.feeder": ("线路详情", "Feeder"),
    "nav.substation": ("变电站详情", "Substation"),
    "shell.data_as_of": ("数据截至", "Data as of"),
    "shell.watchdog_failed": (
        "看板刷新失败：服务器无响应或出错，显示的数字可能已过时。最后一次成功刷新：",
        "The board cannot refresh: the server is not answering or failing; the figures shown "
        "may be out of date. Last successful refresh:",
    ),
    "shell.watchdog_stalled": (
        "看板刷新无响应（超过 {seconds} 秒），显示的数字可能已过时。最后一次成功刷新：",
        "The board's refresh has had no answer for over {seconds} s; the figures shown may be "
        "out of date. Last successful refresh:",
    ),
    "shell.stale": (
        "数据可能已过时：以下数据源未按时采集",
        "Data may be stale: these sources are late or failing",
    ),
    "shell.never": ("从未成功", "never succeeded"),
    "shell.no_success": ("尚无成功的采集", "no successful run yet"),
    "shell.no_data": ("暂无数据", "No data"),
    "shell.not_found": ("未找到", "Not found"),
    "shell.db_down": (
        "数据库暂时无法读取：显示的是最后一次成功读取的数据",
        "The database cannot be read: showing the last good data",
    ),
    "shell.db_down_since": ("最后成功读取", "last good read"),
    "shell.analysis_preparing": (
        "服务启动后的首次分析正在计算中，完成后本页将自动显示。",
        "The first analysis since the server started is being computed; this page fills in by "
        "itself when it is ready.",
    ),
    "shell.forbidden": ("仅管理员可执行此操作", "Only an administrator can do this"),
    "det.tickets": ("95598 工单", "95598 tickets"),
    "col.ticket": ("工单号", "Ticket"),
    "col.category": ("类别", "Category"),
    "col.address": ("地址", "Address"),
    "col.text": ("工单内容", "Ticket text"),
    "data.too_big": ("文件过大（上限 {limit} MB）", "File too large (limit {limit} MB)"),
    "data.limit": ("文件上限 {limit} MB", "Files up to {limit} MB"),
    "data.raw_admin_only": ("原始记录仅管理员可见", "Raw records are shown to administrators only"),
    # live
    "live.title": ("实时停电看板", "Live outage board"),
    "live.active": ("当前停电", "Active outages"),
    "live.customers": ("停电户数", "Customers out"),
    "live.feeders": ("受影响线路", "Feeders affected"),
    "live.last_hour": ("近1小时新增", "Started last hour"),
    "live.longest": ("最长停电", "Longest active"),
    "live.table": ("当前停电列表", "Active outages"),
    "live.trend": ("近24小时停电户数", "Customers out, last 24 hours"),
    "live.by_substation": ("按变电站统计", "By substation"),
    "live.new": ("新", "new"),
    # common columns
    "col.outage_id": ("停电编号", "Outage"),
    "col.feeder": ("线路", "Feeder"),
    "col.feeder_name": ("线路名称", "Feeder name"),
    "col.substation": ("变电站", "Substation"),
    "col.area": ("停电范围", "Area"),
    "col.customers": ("户数", "Customers"),
    "col.start": ("停电时间", "Start"),
    "col.end": ("送电时间", "End"),
    "col.duration": ("持续(分钟)", "Duration (min)"),
    "col.cause": ("原因", "Cause"),
    "col.etr": ("预计送电", "ETR"),
    "col.rank": ("排名", "Rank"),
    "col.name": ("名称", "Name"),
    "col.score": ("优先分", "Score"),
    "col.avoidable": ("可避免投诉/年", "Avoidable complaints/yr"),
    "col.project": ("建议项目", "Recommended project"),
    "col.saidi": ("SAIDI(分钟)", "SAIDI (min)"),
    "col.saifi": ("SAIFI(次)", "SAIFI"),
    "col.lv_days": ("低电压台区日", "Low-voltage days"),
    "col.cpk": ("每千户投诉", "Complaints / 1,000"),
    "col.complaints": ("投诉", "Complaints"),
    "col.transformer": ("台区", "Area"),
    "col.kind": ("类型", "Kind"),
    "col.town": ("乡镇", "Town"),
    "col.compliance": ("电压合格率", "Voltage compliance"),
    "col.v_min": ("最低电压", "Lowest voltage"),
    "det.pct_nominal": ("% 额定电压", "% of nominal"),
    "col.hours_below": ("低于下限小时", "Hours below"),
    "col.length": ("长度(km)", "Length (km)"),
    "col.capacity": ("容量(MVA)", "Capacity (MVA)"),
    "col.count": ("次数", "Count"),
    "col.outages": ("停电次数", "Outages"),
    # drivers
    "drv.from_interruptions": ("可避免投诉：来自停电次数", "Complaints avoided from interruptions"),
    "drv.from_duration": ("可避免投诉：来自停电时长", "Complaints avoided from duration"),
    "drv.from_repeated_outages": (
        "可避免投诉：来自频繁停电",
        "Complaints avoided from repeated outages",
    ),
    "drv.from_low_voltage": ("可避免投诉：来自低电压", "Complaints avoided from low voltage"),
    # map
    "map.title": ("10kV线路地图", "10 kV feeder map"),
    "map.measure": ("着色指标", "Colour by"),
    "map.substation": ("变电站", "Substation"),
    "map.window": ("统计窗口", "Window"),
    "map.all": ("全部", "All"),
    "map.outages": ("当前停电", "Active outages"),
    "map.towns": ("乡镇", "Towns"),
    "map.substations": ("35kV变电站", "35 kV substations"),
    "measure.saidi": ("SAIDI(分钟)", "SAIDI (min)"),
    "measure.saifi": ("SAIFI(次)", "SAIFI"),
    "measure.low_voltage_days": ("低电压台区日", "Low-voltage days"),
    "measure.complaints_per_1000": ("每千户投诉", "Complaints per 1,000 customers"),
    "measure.score": ("优先分", "Priority score"),
    "window.90": ("近90天", "Last 90 days"),
    "window.180": ("近180天", "Last 180 days"),
    "window.365": ("近365天", "Last 365 days"),
    "window.730": ("近730天", "Last 730 days"),
    # priorities
    "pri.title": ("改造优先级", "Upgrade priorities"),
    "pri.level": ("层级", "Level"),
    "pri.feeders": ("10kV线路", "10 kV feeders"),
    "pri.substations": ("35kV变电站", "35 kV substations"),
    "pri.weights": ("权重", "Weights"),
    "pri.w_complaints": ("投诉", "Complaints"),
    "pri.w_hours": ("停电户时", "Customer-hours"),
    "pri.w_lv": ("低电压户时", "Low-voltage customer-hours"),
    "pri.breakdown": ("可避免投诉构成（前20）", "Avoidable complaints by driver (top 20)"),
    "pri.export_csv": ("导出CSV", "Export CSV"),
    "pri.export_xlsx": ("导出Excel", "Export Excel"),
    # detail
    "det.outages": ("停电记录", "Outage history"),
    "det.causes": ("停电原因", "Causes"),
    "det.monthly": ("月度可靠性", "Reliability by month"),
    "det.heatmap": ("电压热力图（小时×日，最低电压）", "Voltage heat map (hour × day, lowest V)"),
    "det.worst": ("电压最差台区", "Worst areas"),
    "det.complaints": ("投诉趋势", "Complaints over time"),
    "det.frequent": ("频繁停电倒计时", "Frequent-outage countdown"),
    "det.until_frequent": (
        "再停电{n}次即构成频繁停电",
        "{n} more outage(s) make it a frequent-outage feeder",
    ),
    "det.is_frequent": ("已构成频繁停电", "Already a frequent-outage feeder"),
    "det.next_age_out": ("最早一次移出窗口", "Earliest outage leaves the window on"),
    "det.areas": ("所带台区", "Its transformer areas"),
    "det.feeders": ("所带线路", "Its feeders"),
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
    # end of issue 15 / 18 reliability block
    # data
    "data.title": ("数据源与数据质量", "Sources and data quality"),
    "data.sources": ("数据源状态", "Source health"),
    "data.counts": ("数据库记录数", "Row counts"),
    "data.quarantine": ("隔离记录", "Quarantined records"),
    "data.upload": ("上传导出文件（管理员）", "Upload an export file (admin)"),
    "data.upload_hint": ("拖放或点击选择文件", "Drop or click to choose a file"),
    "data.upload_done": ("导入完成", "Ingested"),
    "data.upload_refused": ("文件被拒绝", "File refused"),
    "data.read": ("读取", "read"),
    "data.upserted": ("写入", "upserted"),
    "data.unchanged": ("未变化", "unchanged"),
    "data.quarantined": ("隔离", "quarantined"),
    "data.source": ("数据源", "Source"),
    "data.last_success": ("最后成功", "Last success"),
    "data.status": ("状态", "Status"),
    "data.lag": ("延迟(秒)", "Lag (s)"),
    "data.error": ("错误", "Error"),
    "data.notes": ("说明", "Notes"),
    # --- issue 14: network import diagnostics (Data page) ---
    "data.network": ("网络模型诊断", "Network model findings"),
    "data.network_none": (
        "最近一次网络导入没有发现问题。",
        "The last network import found nothing to report.",
    ),
    "data.network_kind": ("类型", "Finding"),
    "data.network_count": ("数量", "Count"),
    "data.network_feeders": ("涉及线路", "Feeders"),
    "data.network_example": ("示例", "Example"),
    "network.loop": ("环路", "Loop"),
    "network.busbar_tie": ("母线联络", "Busbar tie"),
    "network.open_line": ("开环点/断开线段", "Open point / open line"),
    "network.island_line": ("孤岛线段", "Island line"),
    "network.island_bus": ("孤岛节点", "Island bus"),
    "network.island_area": ("孤岛台区", "Island transformer area"),
    "network.no_coordinates": ("无坐标节点", "Bus without coordinates"),
    "network.unknown_bus": ("引用未知节点", "Reference to an unknown bus"),
    "network.unknown_line": ("开关所在线段未知", "Switch on an unknown line"),
    "network.bad_value": ("无法识别的值", "Unreadable value"),
    "network.bad_geometry": ("坐标串无法识别", "Unreadable geometry"),
    "network.unassigned_line": ("未标注线路的线段", "Segment without a feeder"),
    "network.no_substation": ("线路未标注变电站", "Feeder without a substation"),
    # --- end issue 14 ---
    "data.rows": ("行数", "Rows"),
    "data.table": ("表", "Table"),
    "data.reason": ("原因", "Reason"),
    "data.reason_code": ("原因代码", "Reason code"),
    "data.raw": ("原始记录", "Raw record"),
    "data.kind": ("类别", "Kind"),
    "data.time": ("时间", "Time"),
    "data.db_size": ("数据库大小", "Database size"),
    "data.page": ("页", "Page"),
    # --- issue 18: the planner's pages (priorities, map, detail pages) ---
    "pri.title_kv": (
        "改造优先级（{feeder}线路 / {substation}变电站）",
        "Upgrade priorities ({feeder} feeders / {substation} substations)",
    ),
    "pri.feeders_kv": ("{kv}线路", "{kv} feeders"),
    "pri.substations_kv": ("{kv}变电站", "{kv} substations"),
    "pri.budget": ("投资预算（万元）", "Budget (10,000 yuan)"),
    "pri.bad_weights": (
        "权重须为不小于0的数字（不能为空或负数），表格仍按上一次有效的权重排序。",
        "Weights must be numbers of 0 or more (not blank, not negative); the table keeps the "
        "last valid weights.",
    ),
    "pri.bad_budget": ("预算须为不小于0的数字。", "The budget must be a number of 0 or more."),
    "pri.formula": (
        "优先分 = {wc} × 可避免投诉 + {wh} × 可避免停电户时（千户时） + {wl} × "
        "可消除低电压户时（千户时）；可避免投诉 = 四类来源之和（表中“可避免投诉：来自…”各列）。",
        "Score = {wc} × avoidable complaints + {wh} × customer-hours avoided (thousands) + "
        "{wl} × low-voltage customer-hours removed (thousands); avoidable complaints = the sum "
        "of the four “complaints avoided from …” columns.",
    ),
    "pri.params": (
        "{window}；权重 投诉 {wc} / 停电户时 {wh} / 低电压户时 {wl}；{costs}",
        "{window}; weights complaints {wc} / customer-hours {wh} / low-voltage {wl}; {costs}",
    ),
    "pri.no_costs": ("未配置项目造价", "no project costs configured"),
    "pri.costs": ("造价（万元）：{costs}", "costs (10,000 yuan): {costs}"),
    "pri.budget_summary": (
        "预算 {budget} 万元内（按每万元优先分从高到低选取）：{n} 个项目，造价合计 {cost} 万元，"
        "每年可避免投诉 {avoided} 件。表中绿色行为入选项目，红线为预算线。",
        "Within a budget of {budget} (10,000 yuan), picked by score per 10,000 yuan: {n} "
        "projects costing {cost}, avoiding {avoided} complaints a year. Green rows are in; the "
        "red line is the cut-line.",
    ),
    "pri.no_budget": (
        "已配置项目造价：输入预算即可看到预算线。",
        "Project costs are configured: type a budget to see the cut-line.",
    ),
    "pri.sub_note": (
        "变电站一行只计35kV及站内原因（35kV故障、主变过载、有序用电、母线低电压）可避免的投诉；"
        "其所带线路的改造在线路层级另计（“所带线路可避免投诉”一列），两者不重复，合计见“合计”一列。",
        "A substation's row counts only the complaints its own upgrade avoids (35 kV faults, "
        "transformer overload, supply shortage, busbar low voltage); its feeders' upgrades are "
        "counted at the feeder level (column “its feeders' avoidable complaints”), never twice; "
        "the sum is in the “total” column.",
    ),
    "col.explain": ("优先分计算", "Score worked out"),
    "col.ch_k": ("可避免停电户时（千）", "Customer-hours avoided (thousands)"),
    "col.lv_ch_k": ("可消除低电压户时（千）", "Low-voltage customer-hours removed (thousands)"),
    "col.cost": ("造价（万元）", "Cost (10,000 yuan)"),
    "col.per_10k": ("每万元可避免投诉", "Complaints avoided per 10,000 yuan"),
    "col.budget": ("预算内", "Within budget"),
    "col.budget_order": ("入选顺序", "Pick order"),
    "col.feeders_avoidable": ("所带线路可避免投诉/年", "Its feeders' avoidable complaints/yr"),
    "col.total_avoidable": ("合计可避免投诉/年", "Total avoidable complaints/yr"),
    "col.window": ("统计窗口", "Window"),
    "col.weights": ("权重（投诉/户时/低电压）", "Weights (complaints/hours/low voltage)"),
    "col.costs": ("造价设置", "Costs used"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "map.title_kv": ("{kv}线路地图", "{kv} feeder map"),
    "map.substations_kv": ("{kv}变电站", "{kv} substations"),
    "map.no_data": (
        "“{measure}”尚无数据（{missing}），线路以灰色显示。",
        "“{measure}” has no data yet ({missing}); lines are drawn grey.",
    ),
    "map.missing.outages": ("无停电记录", "no outages"),
    "map.missing.complaints": ("无投诉", "no complaints"),
    "map.missing.voltage": ("无电压数据", "no voltage readings"),
    "map.missing.analysis": ("分析未完成", "analysis not ready"),
    "map.figure_failed": (
        "地图绘制失败（数据可以读取）：{error}",
        "The map could not be drawn (the data is readable): {error}",
    ),
    "map.no_value": ("无数据", "no data"),
    "map.class": ("{lo} – {hi}", "{lo} – {hi}"),
    "map.outage_feeder": ("停电线路", "Feeder with an outage"),
    "map.flagged": ("网络模型有问题的线路（点线）", "Feeder with network findings (dotted)"),
    "map.customers_out": ("停电户数", "customers out"),
    "map.feeders_n": ("所带线路", "feeders"),
    "det.outage_records": ("停电记录明细", "Outage records"),
    "unit.kv": ("千伏", "kV"),
    "det.hour": ("时", "hour"),
    # issue 17: the shift lead's storm board (live page, predicted restoration, alerts, handover)
    "storm.share": ("停电户占比", "Customers out, % served"),
    "storm.since": ("自上次查看（{at}）以来", "Since you last looked ({at})"),
    "storm.since_new": ("新增 {n} 起", "{n} new"),
    "storm.since_restored": ("恢复 {n} 起", "{n} restored"),
    "storm.since_changed": ("户数变化 {n} 起", "{n} changed customer counts"),
    "storm.since_none": ("无变化", "no change"),
    "storm.mark_seen": ("标记为已查看", "Mark as seen"),
    "storm.delta_new": ("新增 {n}", "+{n} new"),
    "storm.delta_restored": ("恢复 {n}", "{n} restored"),
    "storm.delta_customers": ("户数 {sign}{n}", "{sign}{n} customers"),
    "storm.trend": ("停电户数趋势", "Customers out"),
    "storm.range_24h": ("24小时", "24 h"),
    "storm.range_5d": ("5天", "5 days"),
    "storm.range_14d": ("2周", "2 weeks"),
    "storm.breakdown": ("分布", "Breakdown"),
    "storm.by_substation": ("按变电站", "By substation"),
    "storm.by_town": ("按乡镇", "By town"),
    "storm.overdue": ("已超预计送电时间", "ETR overdue"),
    "storm.predicted": ("预计 {at} (80 %: {lo}–{hi})", "predicted {at} (80 %: {lo}–{hi})"),
    "storm.alerts_sent": ("已发送的告警", "Alerts sent"),
    "storm.alerts_none": ("尚未发送告警。", "No alert sent yet."),
    "storm.alert_rule": ("规则", "Rule"),
    "storm.alert_kind": ("类型", "Kind"),
    "storm.alert_message": ("内容", "Message"),
    "storm.alert_delivered": ("送达", "Delivered"),
    "storm.alert_alert": ("告警", "alert"),
    "storm.alert_reminder": ("提醒", "reminder"),
    "storm.alert_restored": ("恢复", "restored"),
    "storm.handover": ("交接班报告", "Shift handover"),
    "ho.title": ("{site} 交接班报告 {start} — {end}", "{site} shift handover {start} — {end}"),
    "ho.started": ("本班新增停电（起）", "Outages started"),
    "ho.restored": ("本班恢复送电（起）", "Outages restored"),
    "ho.still_open": ("交班时仍在停电（起）", "Still open at handover"),
    "ho.customers_started": ("新增停电户数", "Customers affected (started)"),
    "ho.customers_out_at_end": ("交班时停电户数", "Customers out at handover"),
    "ho.customer_hours": ("停电时户数", "Customer-hours"),
    "ho.complaints": ("95598 工单", "Complaints received"),
    "ho.alerts_sent": ("已发告警", "Alerts sent"),
    "ho.quarantined": ("隔离记录", "Records quarantined"),
    "ho.longest": ("停电时间最长", "Longest outages"),
    "ho.minutes": ("分钟", "min"),
    "ho.customers": ("户", "customers"),
    "ho.frequent_crossed": (
        "本班达到频繁停电阈值的线路",
        "Feeders that reached the frequent-outage threshold",
    ),
    "ho.complaints_by_category": ("工单分类", "Complaints by category"),
    "ho.alerts": ("告警记录", "Alerts"),
    "ho.data_quality": ("数据质量", "Data quality"),
    "ho.stale_sources": ("中断的数据源", "Stale sources"),
    "ho.none": ("无", "none"),
    "ho.figure": ("项目", "Figure"),
    "ho.period": ("时段", "Period"),
    "ho.sheet_summary": ("汇总", "Summary"),
    "ho.sheet_longest": ("最长停电", "Longest"),
    "ho.sheet_outages": ("本班停电", "Outages"),
    "ho.sheet_frequent": ("频繁停电线路", "Frequent feeders"),
    "ho.sheet_complaints": ("工单分类", "Complaints"),
    "ho.sheet_alerts": ("告警", "Alerts"),
    "ho.sheet_data_quality": ("数据质量", "Data quality"),
    "storm.predicted_note": (
        "“预计”为根据本单位历史停电估算的送电时间，并非抢修人员给出的时间。",
        "Predicted times are estimates from this utility's own outage history, "
        "not an ETR given by the crew.",
    ),
    # planned-outage notices (issue 17, item 5)
    "storm.planned_title": ("计划停电（未来 7 天）", "Planned outages (next 7 days)"),
    "storm.planned_none": ("未来 7 天没有计划停电", "No planned outage in the next 7 days"),
    "storm.planned_rules": (
        "计划停电应提前 7 天公告，临时检修停电应提前 24 小时通知用户（供电营业规则）。",
        "Customers are to be told 7 days before a planned outage and 24 hours before a "
        "temporary one (supply business rules).",
    ),
    "storm.planned_in": ("距开始", "Starts in"),
    "storm.planned_within_24h": ("24 小时内", "within 24 h"),
    "storm.planned_within_7d": ("7 天内", "within 7 days"),
    "storm.planned_count": ("计划停电", "Planned"),
}

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

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def norm_lang(lang: str | None, default: str = "zh") -> str:
    return lang if lang in LANGS else default


def tr(key: str, lang: str | None, **kw) -> str:
    pair = LABELS.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**kw) if kw else text


def tr_map(table: dict[str, tuple[str, str]], value, lang: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    pair = table.get(str(value))
    return str(value) if pair is None else pair[1 if lang == "en" else 0]


def fmt_int(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{round(float(value)):,}"


def fmt_num(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def fmt_minutes(minutes, lang: str | None) -> str:
    if minutes is None or (isinstance(minutes, float) and not math.isfinite(minutes)):
        return "–"
    m = round(float(minutes))
    h, m = divmod(m, 60)
    if lang == "en":
        return f"{h} h {m:02d} min" if h else f"{m} min"
    return f"{h}小时{m:02d}分" if h else f"{m}分钟"


def fmt_time(ts, lang: str | None, tz: str, with_date: bool = True) -> str:
    """A UTC timestamp shown in the site's local time."""
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and math.isnan(ts)):
        return ""
    t = pd.Timestamp(ts)
    if pd.isna(t):
        return ""
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    t = t.tz_convert(tz)
    if not with_date:
        return t.strftime("%H:%M")
    if lang == "en":
        return f"{t.day} {_EN_MONTHS[t.month - 1]} {t:%H:%M}"
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def fmt_clock(now: datetime, lang: str | None, tz: str) -> str:
    return fmt_time(pd.Timestamp(now), lang, tz) + pd.Timestamp(now).tz_convert(tz).strftime(":%S")
