"""Daily weather, load curves and the deterministic voltage model.

Load is a per-unit curve per profile (0 urban residential, 1 rural residential, 2 industrial /
dedicated) relative to an area's design peak: evening peak, summer cooling, winter electric
heating (煤改电), spring irrigation on rural feeders, the Spring Festival (migrant workers home,
factories closed). The voltage of an area is the substation bus voltage minus the 10 kV feeder
drop (growing with electrical distance and feeder load) minus the area's own LV drop, with a
per-phase imbalance. The same function serves the streamed readings (plus noise) and the
hourly low-voltage experience that drives complaints and the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# Spring Festival (春节) dates, 1st day of the lunar year
SPRING_FESTIVAL = {
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}
V_BASE = 230.9  # LV phase voltage at 1.0 pu on the 10 kV bus (10/0.4 kV transformer)
LOW_V = 198.0


@dataclass
class Weather:
    """Daily weather of the simulated period (index = local day from the start)."""

    dates: list
    doy: np.ndarray
    month: np.ndarray
    weekday: np.ndarray
    temp: np.ndarray  # daily mean, deg C
    rain: np.ndarray  # wind/rain severity multiplier for weather faults
    festival: np.ndarray  # 1 during the Spring Festival fortnight
    irrigation: np.ndarray  # 0..1 irrigation intensity on rural feeders
    storm_days: np.ndarray  # day indices
    storm_intensity: np.ndarray
    storm_hour: np.ndarray  # local hour the storm front arrives


def make_weather(seed: int, start: date, days: int) -> Weather:
    """Draw the period's weather; the same seed and start give the same weather."""
    rng = np.random.default_rng([seed, 2, start.toordinal()])
    dates = [start + timedelta(days=i) for i in range(days)]
    doy = np.array([d.timetuple().tm_yday for d in dates])
    month = np.array([d.month for d in dates])
    weekday = np.array([d.weekday() for d in dates])
    anomaly = np.zeros(days)
    e = rng.normal(0, 1.8, days + 30)
    a = 0.0
    for i in range(days + 30):
        a = 0.75 * a + e[i]
        if i >= 30:
            anomaly[i - 30] = a
    temp = 13.5 - 15.0 * np.cos(2 * np.pi * (doy - 18) / 365.25) + anomaly
    summer = np.exp(-0.5 * ((doy - 200) / 40.0) ** 2)
    rain = (0.5 + 1.5 * summer) * rng.lognormal(0, 0.6, days)
    festival = np.zeros(days)
    for i, d in enumerate(dates):
        sf = SPRING_FESTIVAL.get(d.year)
        sf2 = SPRING_FESTIVAL.get(d.year + 1)
        for f in (sf, sf2):
            if f is not None and -8 <= (d - f).days <= 12:
                festival[i] = 1.0
    irrigation = np.clip(
        np.exp(-0.5 * ((doy - 105) / 25.0) ** 2) * rng.uniform(0.6, 1.3, days)
        + 0.3 * np.exp(-0.5 * ((doy - 175) / 12.0) ** 2),
        0,
        1.2,
    )
    # convective storms, mostly June-August; sometimes a winter ice/snow storm
    n_storm = rng.poisson(4.0 * days / 365.0)
    w = 0.05 + summer**2
    storm_days = np.sort(rng.choice(days, size=min(n_storm, days), replace=False, p=w / w.sum()))
    storm_intensity = rng.uniform(0.15, 0.6, len(storm_days))
    if len(storm_days):
        storm_intensity[rng.integers(len(storm_days))] = rng.uniform(0.8, 1.0)
    storm_hour = rng.uniform(13.0, 21.0, len(storm_days))
    return Weather(
        dates,
        doy,
        month,
        weekday,
        temp,
        rain,
        festival,
        irrigation,
        storm_days,
        storm_intensity,
        storm_hour,
    )


def _g(h, mu, sd):
    d = (h - mu + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / sd) ** 2)


def load_profiles(weather: Weather, day_idx: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Per-unit load of the three profiles, shape (len(day_idx) * len(hours), 3), day-major."""
    h = hours[None, :]
    t = weather.temp[day_idx][:, None]
    cool = np.clip(t - 21.0, 0, None) * 0.05
    heat = np.clip(6.0 - t, 0, None)
    fest = weather.festival[day_idx][:, None]
    irr = weather.irrigation[day_idx][:, None]
    wkend = (weather.weekday[day_idx] >= 5)[:, None]
    res = 0.36 + 0.16 * _g(h, 7.5, 1.2) + 0.10 * _g(h, 12.0, 1.5) + 0.52 * _g(h, 20.0, 1.8)
    cool_shape = 0.55 + 0.35 * _g(h, 15.0, 3.0) + 0.55 * _g(h, 21.0, 2.5)
    heat_shape = 0.7 + 0.5 * _g(h, 20.0, 3.0) + 0.3 * _g(h, 7.0, 2.0)
    urban = (res + cool * cool_shape * 1.1 + heat * 0.018 * heat_shape) * (1 + 0.03 * wkend)
    urban = urban * (1 - 0.08 * fest)
    rural = (res + cool * cool_shape + heat * 0.024 * heat_shape) * (1 + 0.35 * fest)
    rural = rural + irr * 0.22 * (0.6 + 0.4 * _g(h, 13.0, 5.0))
    day = 1 / (1 + np.exp(-(h - 8.0) * 2)) * 1 / (1 + np.exp((h - 18.5) * 2))
    ind = (0.3 + 0.7 * day) * (1 + 0.3 * cool) * np.where(wkend, 0.75, 1.0) * (1 - 0.65 * fest)
    out = np.stack([urban / 1.3, rural / 1.3, ind / 1.0], axis=-1)
    return out.reshape(-1, 3).astype(np.float32)


class VoltageModel:
    """Deterministic part of the area voltages; shared by readings, complaints and truth."""

    def __init__(self, net, weather: Weather, seed: int = 0):
        self.net = net
        self.weather = weather
        a, f, s = net.areas, net.feeders, net.subs
        n_f, n_s = len(f["id"]), len(s["id"])
        w = np.zeros((3, n_f))
        np.add.at(w, (a["profile"], a["feeder"]), a["peak_kw"])
        self.w_feeder = (w / np.maximum(w.sum(axis=0), 1e-9)).astype(np.float32)
        ws = np.zeros((3, n_s))
        np.add.at(ws, (a["profile"], a["sub"]), a["peak_kw"])
        self.w_sub = (ws / np.maximum(ws.sum(axis=0), 1e-9) * s["load_ratio"]).astype(np.float32)
        rng = np.random.default_rng([seed, 3])
        self.bus0 = (1.0 + rng.uniform(0.0, 0.02, n_s)).astype(np.float32)
        self.imb_c = (a["imb"] - a["imb"].sum(axis=1, keepdims=True) / 3).astype(np.float32)
        self.imb_worst = self.imb_c.max(axis=1)

    def bus(self, u_p, sag=True):
        """Bus voltage per substation, pu, shape (T, n_s)."""
        r = u_p @ self.w_sub
        b = self.bus0[None, :] - 0.01 * r
        if sag:
            b = b - 0.28 * np.clip(r - 0.95, 0, None)
        return b

    def mean_pu(self, u_p, scenario="asis"):
        """Mean phase voltage (pu of V_BASE) and area load, shapes (T, n_a)."""
        a = self.net.areas
        u_f = u_p @ self.w_feeder
        bus = self.bus(u_p, sag=scenario != "sub_cf")
        drop = a["drop_ref"] if scenario == "feeder_cf" else a["drop"]
        u_a = u_p[:, a["profile"]]
        v = (
            bus[:, a["sub"]]
            + a["tap"].astype(np.float32)
            - drop.astype(np.float32) * u_f[:, a["feeder"]]
            - a["lv_drop"].astype(np.float32) * u_a
        )
        return v, u_a

    def lv_experience(self, scenario="asis", chunk_days=31):
        """Weighted low-voltage hours per area and day, shape (days, n_a), hourly model.

        An hour counts when the worst phase is below 198 V (GB/T 12325 lower limit); evening
        hours (18-23 h) weigh 1.5 and other hours 0.5, summer days (Jun-Aug) weigh 1.5 more:
        customers notice low voltage when they use air conditioners and cookers.
        """
        wx = self.weather
        days = len(wx.temp)
        hours = np.arange(1, 25, dtype=float)
        hw = np.where((hours >= 18) & (hours <= 23), 1.5, 0.5).astype(np.float32)
        out = np.zeros((days, len(self.net.areas["id"])), np.float32)
        raw = np.zeros_like(out)
        for d0 in range(0, days, chunk_days):
            di = np.arange(d0, min(days, d0 + chunk_days))
            u_p = load_profiles(wx, di, hours)
            v, u_a = self.mean_pu(u_p, scenario)
            worst = (v - self.imb_worst[None, :] * u_a) * V_BASE
            low = (worst < LOW_V).reshape(len(di), 24, -1)
            raw[di] = low.sum(axis=1)
            out[di] = np.einsum("dha,h->da", low.astype(np.float32), hw)
        summer = np.isin(wx.month, (6, 7, 8))
        out *= np.where(summer, 1.5, 1.0)[:, None].astype(np.float32)
        return out, raw
