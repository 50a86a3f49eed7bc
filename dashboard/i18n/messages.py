"""Text outside the pages' own labels: the sign-in form, short durations and clock times, and the alert messages the collectors send (each
alert rule has its own language). Placeholders are filled with ``str.format``."""

LABELS: dict[str, tuple[str, str]] = {
    # the sign-in and sign-out forms (dashboard/auth.py)
    "login.title": ("登录", "Sign in"),
    "login.user": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.bad": ("用户名或密码错误", "Wrong user name or password"),
    "login.locked": (
        "尝试次数过多，请 15 分钟后再试",
        "Too many attempts: try again in 15 minutes",
    ),
    "login.expired": ("页面已过期，请重新登录", "The form expired: please sign in again"),
    "login.logout": ("退出", "Sign out"),
    "login.logout_q": ("确定退出登录？", "Sign out now?"),
    # short durations and clock times on the live board, the date axis of the detail pages
    "fmt.lead_days": ("{days} 天 {hours} 小时", "{days} d {hours} h"),
    "fmt.lead_hours": ("{hours} 小时", "{hours} h"),
    "fmt.lead_minutes": ("{minutes} 分钟", "{minutes} min"),
    "fmt.next_day": ("次日 {clock}", "{clock} +1d"),
    "fmt.days_later": ("{days}日后 {clock}", "{clock} +{days}d"),
    "fmt.date_axis": ("%Y年%-m月%-d日", "%Y-%m-%d"),
    # alert messages (feederwatch/alerts.py)
    "alert.outage": (
        "{where}（{substation}）停电 {customers} 户，{start} 起，原因 {cause}",
        "{where} ({substation}): {customers} customers out since {start}, cause {cause}",
    ),
    "alert.new_outage": ("新停电", "New outage"),
    "alert.substation_outage": ("{kv:g} kV 变电站停电", "{kv:g} kV substation out"),
    "alert.etr_overdue": ("超过预计送电时间", "ETR overdue"),
    "alert.etr_was": ("，预计送电 {etr}", "; ETR {etr}"),
    "alert.customers_out": ("停电户数超过警戒值", "Customers out above the alert level"),
    "alert.customers_out_body": (
        "当前停电 {total:,} 户（警戒值 {level:,}），{outages} 起停电",
        "{total:,} customers out (alert level {level:,}), {outages} outages",
    ),
    "alert.data_stale": ("数据源中断", "Data source stale"),
    "alert.data_stale_body": (
        "数据源 {name} 最近一次成功：{last}",
        "source {name}: last success {last}",
    ),
    "alert.never": ("从未", "never"),
    "alert.frequent_feeder": ("线路频繁停电", "Frequent outages on a feeder"),
    "alert.frequent_feeder_body": (
        "线路 {feeder} 近 {days} 天停电 {count} 次（阈值 {threshold}）",
        "feeder {feeder}: {count} outages in {days} days (threshold {threshold})",
    ),
    "alert.still_on": ("仍未恢复：", "Still on: "),
    "alert.restored": ("已恢复：", "Restored: "),
}
