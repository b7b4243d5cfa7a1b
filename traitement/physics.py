"""One pure function per physical quantity.

Each function takes floats or numpy arrays (any mix that broadcasts) and
returns the same, so one formula serves a single request and a column of ten
million. Only arithmetic operators are used: no ``math``, no ``if`` on values.
The formulas are those of method ``hardware`` (README, "What it estimates")
and the legacy formula of method ``seed-quadratic``.
"""

from __future__ import annotations

J_PER_KWH = 3.6e6
"""Joules in one kilowatt-hour (exact)."""
WH_PER_KWH = 1000.0
"""Watt-hours in one kilowatt-hour (exact)."""
G_PER_KG = 1000.0
"""Grams in one kilogram (exact)."""
S_PER_YEAR = 365.25 * 24 * 3600
"""Seconds in one Julian year (exact by definition)."""


def prefill_duration_s(input_tokens, prefill_tokens_per_s):
    """Time to read the prompt, in seconds: tokens / (tokens/s).

    Prefill processes the whole prompt in parallel, hence a high rate.
    """
    return input_tokens / prefill_tokens_per_s


def decode_duration_s(output_tokens, decode_tokens_per_s):
    """Time to write the answer, in seconds: tokens / (tokens/s).

    Decode emits one token per forward pass: the per-request speed a user sees.
    """
    return output_tokens / decode_tokens_per_s


def seed_quadratic_duration_s(input_tokens, output_tokens, tokens_per_s):
    """LEGACY, dimensionally wrong: ``(input_tokens^2 + output_tokens) / throughput``.

    tokens^2 / (tokens/s) is not a time. Kept only so figures computed with it can be
    reproduced (300 in, 50 out at 1 token/s gives 90,050 "seconds"); never the
    default method.
    """
    return (input_tokens * input_tokens + output_tokens) / tokens_per_s


def gpu_power_w(n_gpu, board_power_w, gpu_utilisation):
    """Mean electrical power of the GPUs, in watts: n x board power (TDP) x utilisation.

    ``gpu_utilisation`` is the mean draw as a fraction of the board power.
    """
    return n_gpu * board_power_w * gpu_utilisation


def cpu_power_w(host_power_w, cpu_utilisation):
    """Mean electrical power of the host CPUs, in watts."""
    return host_power_w * cpu_utilisation


def request_energy_kwh(power_w, duration_s, batch_size=1.0):
    """Energy charged to one request, in kWh: power x time / requests served at once / 3.6e6.

    ``batch_size`` requests share the server for ``duration_s``: each is charged
    its share of the power.
    """
    return power_w * duration_s / batch_size / J_PER_KWH


def reasoning_energy_kwh(energy_kwh, decode_s, duration_s, reasoning_tokens, output_tokens):
    """Energy the reasoning tokens cause, in kWh: their share of the output tokens x the decode's share of the time.

    Reasoning tokens are output tokens the user does not see: each is charged the
    mean decode step. The power is the same during prefill and decode, so the
    decode's share of the energy is its share of the time.
    """
    return energy_kwh * (reasoning_tokens / output_tokens) * (decode_s / duration_s)


def facility_energy_kwh(energy_it_kwh, pue):
    """Energy drawn by the whole facility, in kWh: IT energy x PUE (cooling, power losses)."""
    return energy_it_kwh * pue


def carbon_gco2eq(energy_kwh, intensity_gco2eq_per_kwh):
    """Operational emissions, in gCO2e: energy x grid intensity (scope 2, location-based)."""
    return energy_kwh * intensity_gco2eq_per_kwh


def water_l(energy_it_kwh, energy_kwh, wue_site_l_per_kwh, wue_offsite_l_per_kwh):
    """Water consumed, in litres: cooling on site (per IT kWh) + power generation off site (per facility kWh)."""
    return energy_it_kwh * wue_site_l_per_kwh + energy_kwh * wue_offsite_l_per_kwh


def embodied_gco2eq(n_gpu, gpu_embodied_kgco2eq, server_embodied_kgco2eq, duration_s, batch_size, lifetime_years):
    """Share of the hardware's manufacturing emissions, in gCO2e (scope 3).

    The server's embodied carbon is spread evenly over its lifetime and charged
    by time used, divided among the ``batch_size`` requests served at once.
    """
    total_g = (n_gpu * gpu_embodied_kgco2eq + server_embodied_kgco2eq) * G_PER_KG
    return total_g * duration_s / batch_size / (lifetime_years * S_PER_YEAR)
