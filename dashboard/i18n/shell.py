"""The shell's labels: navigation, the header's notices, the analysis windows, yes/no."""

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
    "shell.county": ("县公司", "County"),
    "shell.province": ("全省（全公司）", "Whole company"),
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
    "window.90": ("近90天", "Last 90 days"),
    "window.180": ("近180天", "Last 180 days"),
    "window.365": ("近365天", "Last 365 days"),
    "window.730": ("近730天", "Last 730 days"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "unit.kv": ("千伏", "kV"),
}
