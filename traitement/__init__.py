"""GenAI carbon calculator: energy, carbon and water of LLM requests.

The public API, re-exported so that ``import traitement`` is all a caller needs.
"""

from typing import TYPE_CHECKING

from . import methods, reference
from .base import parse
from .config import Config, ConfigError, load_config
from .core import Estimate, Modele, Requete, Site, estimate, footprint
from .errors import CalculatorError, InvalidInputError, UnknownNameError, UploadTooLargeError
from .parameter import ParameterEstimate, describe_models
from .presets import (
    describe_hardware,
    describe_profiles,
    describe_regions,
    describe_sources,
    modele_from_config,
    requete_from_profile,
    site_from_config,
)
from .schemas import NamedRequest, RawRequest, estimate_named, estimate_raw

# Heavier parts (numpy, pandas, plots, CodeCarbon) load on first use, so that ``import traitement``
# stays fast for a one-off estimate (PEP 562): ``traitement.analyse_analytics`` imports
# ``traitement.analytics`` the first time it is read.
if TYPE_CHECKING:
    from .accounting import Report as Report
    from .accounting import ReportOptions as ReportOptions
    from .accounting import account_log as account_log
    from .accounting import report_options as report_options
    from .analytics import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
    from .analytics import PLOT_FORMATS as PLOT_FORMATS
    from .analytics import AnalyticsFile as AnalyticsFile
    from .analytics import AnalyticsFileError as AnalyticsFileError
    from .analytics import AnalyticsOptions as AnalyticsOptions
    from .analytics import AnalyticsResult as AnalyticsResult
    from .analytics import analyse_analytics as analyse_analytics
    from .analytics import analytics_sensitivity as analytics_sensitivity
    from .analytics import compare_regions as compare_regions
    from .analytics import default_analytics_path as default_analytics_path
    from .analytics import parse_analytics as parse_analytics
    from .analytics import parse_options as parse_options
    from .analytics import plot_analytics as plot_analytics
    from .analytics import plot_bytes as plot_bytes
    from .analytics import read_analytics as read_analytics
    from .deployment import model_footprint as model_footprint
    from .logs import estimate_log as estimate_log
    from .measurement import Measurement as Measurement
    from .measurement import measure as measure

_LAZY = {
    "analytics": (
        "MAX_UPLOAD_BYTES",
        "PLOT_FORMATS",
        "AnalyticsFile",
        "AnalyticsFileError",
        "AnalyticsOptions",
        "AnalyticsResult",
        "analyse_analytics",
        "analytics_sensitivity",
        "compare_regions",
        "default_analytics_path",
        "parse_analytics",
        "parse_options",
        "plot_analytics",
        "plot_bytes",
        "read_analytics",
    ),
    "measurement": ("Measurement", "measure"),
    "accounting": ("Report", "ReportOptions", "account_log", "report_options"),
    "deployment": ("model_footprint",),
    "logs": ("estimate_log",),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> object:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'traitement' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    *_LAZY_NAMES,
    "CalculatorError",
    "Config",
    "ConfigError",
    "Estimate",
    "InvalidInputError",
    "Modele",
    "NamedRequest",
    "ParameterEstimate",
    "RawRequest",
    "Requete",
    "Site",
    "UnknownNameError",
    "UploadTooLargeError",
    "describe_hardware",
    "describe_models",
    "describe_profiles",
    "describe_regions",
    "describe_sources",
    "estimate",
    "estimate_named",
    "estimate_raw",
    "footprint",
    "load_config",
    "methods",
    "reference",
    "modele_from_config",
    "parse",
    "requete_from_profile",
    "site_from_config",
]
