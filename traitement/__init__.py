"""GenAI carbon calculator: energy, carbon and water of LLM requests.

The public API, re-exported so that ``import traitement`` is all a caller needs.
"""

from . import fields
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
from .measurement import MEASURED_METHOD, Measurement, measure
from .parameter import PARAMETER_METHOD, ParameterEstimate, describe_models
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
    "COVERS",
    "HARDWARE_METHOD",
    "MEASURED_METHOD",
    "METHODS",
    "PARAMETER_METHOD",
    "SEED_QUADRATIC_METHOD",
    "CalculatorError",
    "Config",
    "ConfigError",
    "Estimate",
    "InvalidInputError",
    "Measurement",
    "Modele",
    "NamedRequest",
    "ParameterEstimate",
    "RawRequest",
    "Requete",
    "Site",
    "UnknownNameError",
    "describe_hardware",
    "describe_models",
    "describe_profiles",
    "describe_regions",
    "fields",
    "estimate",
    "estimate_named",
    "estimate_raw",
    "footprint",
    "load_config",
    "measure",
    "modele_from_config",
    "parse",
    "requete_from_profile",
    "site_from_config",
]
