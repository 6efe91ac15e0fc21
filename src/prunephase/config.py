"""Configuration: JSON-Schema validation with defaults, and messages that name the offending key."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value or key is invalid."""


def _with_defaults(validator_class: type) -> type:
    """Extend a jsonschema validator so that it fills in ``default`` values while it validates.

    Defaults are filled before the properties are validated, so a nested object whose default is
    ``{}`` is created and then filled in turn.
    """
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[") or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _key_path(error)
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        prefix = f"{where}." if where != "<top level>" else ""
        names = ", ".join(f"'{prefix}{k}'" for k in extra)
        return f"unknown config key {names}; allowed keys here: {', '.join(known)}"
    return f"config key '{where}': {error.message}"


def load_schema(path: str | os.PathLike = SCHEMA_PATH) -> dict[str, Any]:
    """Load the YAML JSON Schema of the workflow configuration."""
    with open(path) as fh:
        return yaml.safe_load(fh)


def validate_config(
    config: Mapping[str, Any], schema: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate ``config`` against the schema and return a copy with every default filled in.

    Parameters
    ----------
    config
        The configuration as loaded from YAML (Snakemake's ``config``).
    schema
        The JSON Schema; by default ``config/config.schema.yaml`` of this checkout.

    Raises
    ------
    ConfigError
        Naming every offending key, e.g. ``unknown config key 'dropout_phases.foo'`` or
        ``config key 'dropout_phases.p_eval[3]': 1.2 is greater than or equal to the maximum of 1``.
    """
    schema = load_schema() if schema is None else schema
    filled = copy.deepcopy(dict(config))
    errors = sorted(_Validator(schema).iter_errors(filled), key=lambda e: list(e.absolute_path))
    if errors:
        lines = "\n  ".join(_describe(e) for e in errors)
        raise ConfigError(f"invalid configuration:\n  {lines}")
    return filled


def load_config(*paths: str | os.PathLike) -> dict[str, Any]:
    """Load YAML config files (later ones override earlier ones, nested keys merge); validate."""
    merged: dict[str, Any] = {}
    for path in paths:
        with open(path) as fh:
            _deep_update(merged, yaml.safe_load(fh) or {})
    return validate_config(merged)


def _deep_update(base: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
