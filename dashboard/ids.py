"""Component ids, in one place (STYLE.md: never scattered string literals).

Shell ids are plain strings; each page's ids carry the page's prefix. Translated static labels use
the pattern-matching id ``{"type": I18N, "key": ..., "n": ...}`` (see ``components.common.t``).
"""

# shell
LANG = "lang-store"
LANG_SWITCH = "lang-switch"
NAV = "nav"
NAV_LOCATION = "nav-location"
SITE_NAME = "site-name"
STATUS_TICK = "status-tick"
LAST_UPDATED = "last-updated"
STALE_BANNER = "stale-banner"
ANALYSIS_BANNER = "analysis-banner"
#: set when a page was told the first analysis is not ready; ANALYSIS_READY changes once it is
ANALYSIS_WAITING = "analysis-waiting"
#: an input of every page that shows analysis: they render again when it becomes ready
ANALYSIS_READY = "analysis-ready"
WATCHDOG_BANNER = "watchdog-banner"
I18N = "i18n"
ACCOUNT_USER = "account-user"
LOGOUT = "logout"
LOGOUT_CSRF = "logout-csrf"
#: the county pages show (issue 19): a code, or None for the province (the whole company);
#: an input of every page callback that reads data. Kept per browser tab (session storage);
#: ``?county=CODE`` in a page's address sets it.
COUNTY = "county-store"
COUNTY_SWITCH = "county-switch"
COUNTY_BOX = "county-box"

# live
LIVE_TICK = "live-tick"
LIVE_KPIS = "live-kpis"
LIVE_KPI_ACTIVE = "live-kpi-active"
LIVE_KPI_CUSTOMERS = "live-kpi-customers"
LIVE_KPI_FEEDERS = "live-kpi-feeders"
LIVE_KPI_LAST_HOUR = "live-kpi-last-hour"
LIVE_KPI_LONGEST = "live-kpi-longest"
LIVE_GRID = "live-grid"
LIVE_TREND = "live-trend"
LIVE_BY_SUBSTATION = "live-by-substation"
LIVE_SEEN = "live-seen"

# map
MAP_GRAPH = "map-graph"
MAP_MEASURE = "map-measure"
MAP_SUBSTATION = "map-substation"
MAP_WINDOW = "map-window"
MAP_OUTAGES = "map-outages"

# priorities
PRI_LEVEL = "pri-level"
PRI_WINDOW = "pri-window"
PRI_W_COMPLAINTS = "pri-w-complaints"
PRI_W_HOURS = "pri-w-hours"
PRI_W_LV = "pri-w-lv"
PRI_GRID = "pri-grid"
PRI_BARS = "pri-bars"
PRI_EXPORT_CSV = "pri-export-csv"
PRI_EXPORT_XLSX = "pri-export-xlsx"
PRI_DOWNLOAD = "pri-download"

# feeder / substation detail
FEEDER_ID = "feeder-id"
FEEDER_BODY = "feeder-body"
FEEDER_SHOWN = "feeder-shown"  # the language the body is drawn in
SUB_ID = "sub-id"
SUB_BODY = "sub-body"
SUB_SHOWN = "sub-shown"

# reliability
REL_WINDOW = "rel-window"
REL_BODY = "rel-body"
REL_SHOWN = "rel-shown"

# data
DATA_SOURCES = "data-sources"
DATA_COUNTS = "data-counts"
DATA_QUARANTINE = "data-quarantine"
DATA_Q_SOURCE = "data-q-source"
DATA_Q_PAGE = "data-q-page"
DATA_UPLOAD = "data-upload"
DATA_UPLOAD_KIND = "data-upload-kind"
DATA_UPLOAD_RESULT = "data-upload-result"
DATA_REFRESH = "data-refresh"

# --- issue 18: the planner's pages ---------------------------------------------------------------
PRI_TITLE = "pri-title"
PRI_BUDGET = "pri-budget"
PRI_BUDGET_BOX = "pri-budget-box"
PRI_MESSAGE = "pri-message"
PRI_FORMULA = "pri-formula"
PRI_SUMMARY = "pri-summary"
PRI_PARAMS = "pri-params"
PRI_NAV = "pri-nav"
PRI_SUB_NOTE = "pri-sub-note"
MAP_NOTE = "map-note"
MAP_TITLE = "map-title"
MAP_NAV = "map-nav"
DATA_NETWORK = "data-network"  # issue 14: network import findings

# live board for walls and desks (issue 17)
LIVE_LOOKED = "live-looked"
LIVE_SINCE = "live-since"
LIVE_MARK_SEEN = "live-mark-seen"
LIVE_KPI_SHARE = "live-kpi-share"
LIVE_DELTA_ACTIVE = "live-delta-active"
LIVE_DELTA_CUSTOMERS = "live-delta-customers"
LIVE_TREND_RANGE = "live-trend-range"
LIVE_BREAKDOWN = "live-breakdown"
LIVE_STORM = "live-storm"
DATA_ALERTS = "data-alerts"
LIVE_HANDOVER = "live-handover"
LIVE_HANDOVER_PDF = "live-handover-pdf"
LIVE_HANDOVER_XLSX = "live-handover-xlsx"
LIVE_PLANNED = "live-planned"
