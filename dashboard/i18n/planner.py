"""The planner's pages' labels (issue 18): the map, the priorities, the detail pages."""

LABELS: dict[str, tuple[str, str]] = {
    "det.tickets": ("95598 工单", "95598 tickets"),
    "det.pct_nominal": ("% 额定电压", "% of nominal"),
    # map
    "map.title": ("10kV线路地图", "10 kV feeder map"),
    "map.measure": ("着色指标", "Colour by"),
    "map.substation": ("变电站", "Substation"),
    "map.window": ("统计窗口", "Window"),
    "map.all": ("全部", "All"),
    "map.outages": ("当前停电", "Active outages"),
    "map.towns": ("乡镇", "Towns"),
    "map.substations": ("35kV变电站", "35 kV substations"),
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
    "det.hour": ("时", "hour"),
}
