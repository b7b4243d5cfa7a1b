"""GenAI carbon calculator: energy, carbon and water of LLM requests.

The public API, re-exported so that ``import traitement`` is all a caller needs.
"""

from .analytics import (
    MAX_UPLOAD_BYTES,
    AnalyticsFile,
    AnalyticsFileError,
    AnalyticsOptions,
    AnalyticsResult,
    UploadTooLargeError,
    analyse_analytics,
    analytics_sensitivity,
    compare_regions,
    default_analytics_path,
    parse_analytics,
    parse_options,
    plot_analytics,
    read_analytics,
)
from .config import Config, ConfigError, load_config
from .core import (
    COVERS,
    HARDWARE_METHOD,
    METHODS,
    SEED_QUADRATIC_METHOD,
    Estimate,
    Modele,
    Requete,
    Site,
    estimate,
    footprint,
)
from .errors import CalculatorError, InvalidInputError, UnknownNameError
from .presets import (
    describe_hardware,
    describe_profiles,
    describe_regions,
    modele_from_config,
    requete_from_profile,
    site_from_config,
)
from .schemas import NamedRequest, RawRequest, estimate_named, estimate_raw, parse

__all__ = [
    "MAX_UPLOAD_BYTES",
    "AnalyticsFile",
    "AnalyticsFileError",
    "AnalyticsOptions",
    "AnalyticsResult",
    "UploadTooLargeError",
    "analyse_analytics",
    "analytics_sensitivity",
    "compare_regions",
    "default_analytics_path",
    "parse_analytics",
    "parse_options",
    "plot_analytics",
    "read_analytics",
    "COVERS",
    "HARDWARE_METHOD",
    "METHODS",
    "SEED_QUADRATIC_METHOD",
    "CalculatorError",
    "Config",
    "ConfigError",
    "Estimate",
    "InvalidInputError",
    "Modele",
    "NamedRequest",
    "RawRequest",
    "Requete",
    "Site",
    "UnknownNameError",
    "describe_hardware",
    "describe_profiles",
    "describe_regions",
    "estimate",
    "estimate_named",
    "estimate_raw",
    "footprint",
    "load_config",
    "modele_from_config",
    "parse",
    "requete_from_profile",
    "site_from_config",
]
