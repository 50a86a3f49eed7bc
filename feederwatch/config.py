"""Typed settings from config.toml (plus environment), checked whole before anything runs.

Load order: ``--config PATH``; else ``./config.toml`` if present; else the built-in defaults
(``feederwatch/default_config.toml``, identical to the shipped ``config.toml``). A relative SQLite
path is resolved against the folder of the config file (the current folder for the defaults).
``FEEDERWATCH_DATABASE_URL`` overrides the database URL. Secrets are only ever named
(``token_env = "OMS_TOKEN"``); their values are read from the environment at use.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

from analytics.settings import DEFAULT_SETTINGS as ANALYTICS
from collectors.options import OPTIONS_BY_TYPE, SourceOptions

DATABASE_URL_ENV = "FEEDERWATCH_DATABASE_URL"


class ConfigError(Exception):
    """A config that cannot be used; ``str()`` is the one line shown to the user."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///data/feederwatch.db"
    raw_retention_days: Annotated[int, Field(ge=1)] = 400
    # Hourly rollups are kept for the newest this many days of data (the detail pages' heat
    # maps show 21); daily rollups are kept for good. Hourly rows cost more disk than the
    # readings' own table would over a year (issue 19).
    hourly_retention_days: Annotated[int, Field(ge=21)] = 62

    @field_validator("url")
    @classmethod
    def _parsable(cls, value: str) -> str:
        try:
            make_url(value)
        except Exception as exc:  # sqlalchemy raises ArgumentError with a long text
            raise ValueError(f"not a database URL: {value!r}") from exc
        return value


class SiteSettings(_Section):
    name: str = "模拟县供电公司"
    timezone: str = ANALYTICS.tz
    centre: tuple[float, float] = (116.25, 36.58)
    zoom: Annotated[float, Field(ge=0, le=20)] = 10

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("centre")
    @classmethod
    def _lon_lat(cls, value: tuple[float, float]) -> tuple[float, float]:
        lon, lat = value
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError("centre must be [longitude, latitude] in degrees")
        return value


# The analytics' thresholds and weights take their defaults from analytics/settings.py (the one
# place they are typed); analytics.settings.CONFIG_FIELDS joins these keys to its fields.
class Thresholds(_Section):
    momentary_minutes: Annotated[float, Field(gt=0)] = ANALYTICS.momentary_minutes
    voltage_nominal: Annotated[float, Field(gt=0)] = ANALYTICS.voltage_nominal
    voltage_low: Annotated[float, Field(gt=0)] = ANALYTICS.voltage_low
    voltage_high: Annotated[float, Field(gt=0)] = ANALYTICS.voltage_high
    low_voltage_rule: Literal["any", "all"] = ANALYTICS.low_voltage_rule
    low_voltage_min_hours: Annotated[float, Field(gt=0, le=24)] = ANALYTICS.low_voltage_min_hours
    frequent_feeder_count: Annotated[int, Field(ge=1)] = ANALYTICS.frequent_feeder_count
    frequent_feeder_days: Annotated[int, Field(ge=1)] = ANALYTICS.frequent_feeder_days
    frequent_area_count_window: Annotated[int, Field(ge=1)] = ANALYTICS.frequent_area_count_window
    frequent_area_window_days: Annotated[int, Field(ge=1)] = ANALYTICS.frequent_area_window_days
    frequent_area_count_year: Annotated[int, Field(ge=1)] = ANALYTICS.frequent_area_count_year
    stale_after_seconds: Annotated[float, Field(gt=0)] = 300.0

    @model_validator(mode="after")
    def _limits_ordered(self) -> Thresholds:
        if not self.voltage_low < self.voltage_nominal < self.voltage_high:
            raise ValueError(
                f"voltage_low ({self.voltage_low}) < voltage_nominal ({self.voltage_nominal})"
                f" < voltage_high ({self.voltage_high}) does not hold"
            )
        return self


class RankingSettings(_Section):
    window_days: Annotated[int, Field(ge=7)] = ANALYTICS.window_days
    weight_complaints: Annotated[float, Field(ge=0)] = ANALYTICS.weight_complaints
    weight_customer_hours: Annotated[float, Field(ge=0)] = ANALYTICS.weight_customer_hours
    weight_low_voltage_hours: Annotated[float, Field(ge=0)] = ANALYTICS.weight_low_voltage_hours
    customer_basis: Literal["households", "users_10kv"] = ANALYTICS.customer_basis
    aihc_budget_hours: Annotated[float, Field(ge=0)] = ANALYTICS.aihc_budget_hours
    history_years: Annotated[int, Field(ge=1, le=20)] = ANALYTICS.history_years
    recent_year_weight: Annotated[float, Field(ge=0, le=1)] = ANALYTICS.recent_year_weight
    costs: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)


class IndicesSettings(_Section):
    """``[indices]`` (issue 15): how reliability indices and Major Event Days are counted."""

    period_rule: Literal["start", "clip"] = ANALYTICS.period_rule
    customers_served: Annotated[float, Field(ge=0)] = ANALYTICS.customers_served
    med_years: Annotated[int, Field(ge=1)] = ANALYTICS.med_years
    med_min_history_days: Annotated[int, Field(ge=0)] = ANALYTICS.med_min_history_days
    med_min_days: Annotated[int, Field(ge=2)] = ANALYTICS.med_min_days
    feeders: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    substations: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)


class DashboardSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8050
    refresh_seconds: Annotated[float, Field(ge=1)] = 15
    stall_seconds: Annotated[float, Field(ge=1)] = 30
    analysis_process: bool = True
    language: Literal["zh", "en"] = "zh"
    tile_url: str = ""
    tile_crs: Literal["wgs84", "gcj02"] = "wgs84"
    #: local GeoJSON files (WGS84; relative to the config file) drawn under the feeders
    base_layers: list[str] = Field(default_factory=list)
    login: bool = False
    secure_cookies: bool = False


class AlertRule(_Section):
    """One ``[alerts.NAME]`` rule (issue 17; feederwatch/alerts.py). Where it is sent is only
    ever named: ``urls_env`` lists environment variables, each holding one or more apprise URLs
    (``wecombot://KEY``, ``dingtalk://TOKEN``, ``json://host/path``, ``mailto://...``)."""

    kind: Literal[
        "new_outage",
        "substation_outage",
        "customers_out",
        "frequent_feeder",
        "etr_overdue",
        "data_stale",
    ]
    enabled: bool = True
    #: new_outage: only outages of at least this many customers
    min_customers: Annotated[int, Field(ge=0)] = 0
    #: customers_out: alert while more customers than this are out
    level: Annotated[int, Field(ge=1)] = 1000
    #: substation_outage: substations of this voltage (kV)
    voltage_kv: Annotated[float, Field(gt=0)] = 35.0
    #: etr_overdue: minutes past the ETR
    overdue_minutes: Annotated[float, Field(ge=0)] = 30.0
    urls_env: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = Field(
        default_factory=list
    )
    #: re-send a reminder while the condition lasts, this often (0: never)
    renotify_minutes: Annotated[float, Field(ge=0)] = 0.0
    #: send a message when the condition ends (restoration, cleared)
    restored_message: bool = True
    language: Literal["zh", "en"] = "zh"


class CountySettings(_Section):
    """One ``[[counties]]`` entry (issue 19): a county company of a province deployment. Its
    substations are those its network rows name (a ``county`` column, or a source's
    ``county``); pages, the API and ``rank``/``indices`` filter by its code."""

    code: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    name_en: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}", value):
            raise ValueError(
                f"{value!r} is not a county code (letters, digits, '_', '-', '.'; up to 64)"
            )
        return value


class Settings(_Section):
    """The whole configuration. ``config_dir`` is where relative paths are resolved."""

    database: DatabaseSettings = DatabaseSettings()
    site: SiteSettings = SiteSettings()
    thresholds: Thresholds = Thresholds()
    ranking: RankingSettings = RankingSettings()
    indices: IndicesSettings = IndicesSettings()
    dashboard: DashboardSettings = DashboardSettings()
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    alerts: dict[str, AlertRule] = Field(default_factory=dict)
    counties: list[CountySettings] = Field(default_factory=list)
    config_path: Path | None = None
    config_dir: Path = Path(".")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def database_url(self) -> str:
        """The database URL in force: the environment override, else the config's, resolved."""
        return resolve_database_url(
            os.environ.get(DATABASE_URL_ENV) or self.database.url, self.config_dir
        )

    @model_validator(mode="after")
    def _counties_distinct(self) -> Settings:
        seen: set[str] = set()
        for i, county in enumerate(self.counties):
            if county.code in seen:
                raise ValueError(f"counties.{i}.code: {county.code!r} is named twice")
            seen.add(county.code)
        return self

    def source_counties(self) -> dict[str, str]:
        """Source name -> the county it is bound to (only the sources bound to one)."""
        return {name: raw["county"] for name, raw in self.sources.items() if raw.get("county")}

    def source_options(self) -> dict[str, SourceOptions]:
        """Each configured source's validated options (already checked at load)."""
        return {
            name: OPTIONS_BY_TYPE[raw["type"]].model_validate(raw)
            for name, raw in self.sources.items()
        }


def resolve_database_url(url: str, base: Path) -> str:
    """Resolve a relative SQLite file path against ``base``; other URLs pass unchanged."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database)
    if not path.is_absolute():
        path = (base / path).resolve()
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


def default_config_text() -> str:
    return resources.files("feederwatch").joinpath("default_config.toml").read_text("utf-8")


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors()[0]
    where = _location(err["loc"])
    where = f"{prefix}.{where}" if prefix and where else (prefix or where)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{where}: {msg}" if where else msg


def parse_settings(
    data: dict[str, Any], *, origin: str, config_dir: Path, config_path: Path | None = None
) -> Settings:
    """Validate a parsed TOML document; raise ConfigError with one line naming file and key."""
    try:
        settings = Settings.model_validate(
            {**data, "config_dir": config_dir, "config_path": config_path}
        )
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_first_error(exc)}") from None
    for name, raw in settings.sources.items():
        kind = raw.get("type")
        if kind not in OPTIONS_BY_TYPE:
            known = ", ".join(sorted(OPTIONS_BY_TYPE))
            raise ConfigError(
                f"{origin}: sources.{name}.type: must be one of {known}, got {kind!r}"
            )
        try:
            OPTIONS_BY_TYPE[kind].model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"{origin}: {_first_error(exc, f'sources.{name}')}") from None
    codes = [c.code for c in settings.counties]
    for name, county in settings.source_counties().items():
        if county not in codes:
            known = ", ".join(codes) or "none: add [[counties]]"
            raise ConfigError(
                f"{origin}: sources.{name}.county: {county!r} is not a configured county "
                f"(counties: {known})"
            )
    env_url = os.environ.get(DATABASE_URL_ENV)
    if env_url:
        try:
            make_url(env_url)
        except Exception:
            # Never echo the value: it may carry a password.
            raise ConfigError(f"environment {DATABASE_URL_ENV}: not a database URL") from None
    return settings


def load_settings(path: str | Path | None = None) -> Settings:
    """Load settings from ``path``, else ./config.toml, else the built-in defaults."""
    if path is None and Path("config.toml").is_file():
        path = Path("config.toml")
    if path is None:
        return parse_settings(
            tomllib.loads(default_config_text()),
            origin="<built-in defaults>",
            config_dir=Path.cwd(),
        )
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.__class__.__name__})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_settings(
        data, origin=str(path), config_dir=path.resolve().parent, config_path=path.resolve()
    )
