"""GS1 Core Business Vocabulary (CBV) 2.0 standard vocabularies.

In the EPCIS 2.0 JSON-LD binding a CBV term is written as a bare word (``shipping``) which the
JSON-LD context expands to a web URI (``https://ref.gs1.org/cbv/BizStep-shipping``); EPCIS 1.x and
the XML binding also used URNs (``urn:epcglobal:cbv:bizstep:shipping``). Any other absolute URI is a
user-defined (custom) vocabulary element and is allowed by the standard.

The term lists match CBV 2.0 and the enumerations of the official EPCIS 2.0 JSON Schema
(``EPCIS-JSON-Schema.json``); ``tests/trace/test_cbv.py`` checks them against that schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from rfc3986_validator import validate_rfc3986

VocabularyKind = Literal[
    "bizStep",
    "disposition",
    "bizTransactionType",
    "sourceDestType",
    "errorReason",
    "component",
    "measurementType",
    "sensorAlertType",
]

CBV_BASE: Final = "https://ref.gs1.org/cbv/"
GS1_VOC_BASE: Final = "https://gs1.org/voc/"

BIZ_STEPS: Final = frozenset(
    {
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    }
)

DISPOSITIONS: Final = frozenset(
    {
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_class",
        "mismatch_instance",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        # CBV 2.0 and the EPCIS JSON Schema spell it with an underscore.
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    }
)

BIZ_TRANSACTION_TYPES: Final = frozenset(
    {
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    }
)

SOURCE_DEST_TYPES: Final = frozenset({"owning_party", "possessing_party", "location"})

ERROR_REASONS: Final = frozenset({"did_not_occur", "incorrect_data"})

COMPONENTS: Final = frozenset(
    {
        "x",
        "y",
        "z",
        "axial_distance",
        "azimuth",
        "height",
        "spherical_radius",
        "polar_angle",
        "elevation_angle",
        "easting",
        "northing",
        "latitude",
        "longitude",
        "altitude",
    }
)

# Sensor measurement types live in the GS1 Web Vocabulary (gs1:), not in the CBV namespace.
MEASUREMENT_TYPES: Final = frozenset(
    {
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Radioactivity",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "RadiantFlux",
        "RadiantIntensity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    }
)

SENSOR_ALERT_TYPES: Final = frozenset({"ALARM_CONDITION", "ERROR_CONDITION"})


@dataclass(frozen=True)
class Vocabulary:
    """One standard vocabulary: its terms, web-URI prefix and (if any) legacy URN prefix."""

    kind: VocabularyKind
    terms: frozenset[str]
    uri_prefix: str
    urn_prefix: str | None


VOCABULARIES: Final[dict[VocabularyKind, Vocabulary]] = {
    v.kind: v
    for v in (
        Vocabulary("bizStep", BIZ_STEPS, CBV_BASE + "BizStep-", "urn:epcglobal:cbv:bizstep:"),
        Vocabulary("disposition", DISPOSITIONS, CBV_BASE + "Disp-", "urn:epcglobal:cbv:disp:"),
        Vocabulary(
            "bizTransactionType", BIZ_TRANSACTION_TYPES, CBV_BASE + "BTT-", "urn:epcglobal:cbv:btt:"
        ),
        Vocabulary(
            "sourceDestType", SOURCE_DEST_TYPES, CBV_BASE + "SDT-", "urn:epcglobal:cbv:sdt:"
        ),
        Vocabulary("errorReason", ERROR_REASONS, CBV_BASE + "ER-", "urn:epcglobal:cbv:er:"),
        Vocabulary("component", COMPONENTS, CBV_BASE + "Comp-", None),
        Vocabulary("measurementType", MEASUREMENT_TYPES, GS1_VOC_BASE, None),
        Vocabulary("sensorAlertType", SENSOR_ALERT_TYPES, GS1_VOC_BASE, None),
    )
}


class UnknownTermError(ValueError):
    """A value is neither a known standard term of its vocabulary nor a custom absolute URI."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        super().__init__(f"{kind} {value!r}: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason


def _vocabulary(kind: str) -> Vocabulary:
    try:
        return VOCABULARIES[kind]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown CBV vocabulary kind {kind!r}") from None


def is_bare_word(value: str) -> bool:
    """True for the compact JSON form of a standard term (``shipping``): it has no URI scheme."""
    return ":" not in value


def legacy_urn_to_uri(value: str) -> str | None:
    """Map an EPCIS 1.x CBV URN (``urn:epcglobal:cbv:disp:in_transit``) to its CBV 2.0 web URI.

    Returns None when ``value`` is not a legacy CBV vocabulary URN. Business transaction
    identifiers (``urn:epcglobal:cbv:bt:...``) are identifiers, not vocabulary, and are not mapped.
    """
    for vocab in VOCABULARIES.values():
        if vocab.urn_prefix and value.startswith(vocab.urn_prefix):
            return vocab.uri_prefix + value[len(vocab.urn_prefix) :]
    return None


def expand_term(kind: str, value: str) -> str:
    """Expand a term of vocabulary ``kind`` to its canonical web URI, without judging it.

    A bare word gets the vocabulary's prefix (``shipping`` ->
    ``https://ref.gs1.org/cbv/BizStep-shipping``), as the EPCIS JSON-LD context does; a legacy URN
    of the same vocabulary is mapped to the web URI; anything else (already a URI) is returned
    unchanged. Use :func:`validate_term` to reject unknown terms.
    """
    vocab = _vocabulary(kind)
    value = value.strip()
    if is_bare_word(value):
        return vocab.uri_prefix + value
    if vocab.urn_prefix and value.startswith(vocab.urn_prefix):
        return vocab.uri_prefix + value[len(vocab.urn_prefix) :]
    return value


def standard_term(kind: str, value: str) -> str | None:
    """The bare standard term that ``value`` denotes (bare, URN or web URI form), else None."""
    vocab = _vocabulary(kind)
    uri = expand_term(kind, value)
    if uri.startswith(vocab.uri_prefix):
        term = uri[len(vocab.uri_prefix) :]
        if term in vocab.terms:
            return term
    return None


def validate_term(kind: str, value: str) -> str:
    """Check a vocabulary value and return its expanded URI.

    Accepts a known bare word, the standard web URI or legacy URN of a known term, or any other
    absolute URI (a custom vocabulary). Raises :class:`UnknownTermError` for an unknown bare
    word, for an unknown term inside the standard namespace (a typo such as
    ``BizStep-shiping``), and for a value that is not an absolute URI.
    """
    vocab = _vocabulary(kind)
    uri = expand_term(kind, value)
    if standard_term(kind, value) is not None:
        return uri
    if is_bare_word(value.strip()):
        raise UnknownTermError(
            kind, value, f"not a CBV 2.0 {kind} term; use a known term or a full URI"
        )
    # A term inside the standard namespace must be a standard term; only other URIs are custom.
    in_standard_namespace = uri.startswith(vocab.uri_prefix) or (
        vocab.urn_prefix is not None and value.startswith(vocab.urn_prefix)
    )
    if in_standard_namespace:
        raise UnknownTermError(kind, value, f"not a CBV 2.0 {kind} term in the standard namespace")
    if not validate_rfc3986(uri, rule="URI"):
        raise UnknownTermError(kind, value, "neither a CBV 2.0 term nor an absolute URI")
    return uri
