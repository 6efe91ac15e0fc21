"""Configuration: one JSON Schema holds every key, its default and its constraints.

:func:`validate_config` checks a configuration against the schema that ships with the package
(``config.schema.yaml``), fills in every default, and then checks the relations between keys that
the schema declares with four keywords of this project, each a list of pairs of key paths relative
to the object that holds them:

``x-less-than: [[a, b]]``
    the value of ``a`` is below the value of ``b``;
``x-at-most: [[a, b]]``
    the value of ``a`` does not exceed the value of ``b``;
``x-multiple-of: [[a, b]]``
    the value of ``a`` is a multiple of the value of ``b``;
``x-member-of: [[a, b]]``
    the value of ``a`` is one of the values of the list ``b``;

and ``x-increasing: true`` on an array: its items increase strictly. Every failure names the keys,
so a bad configuration stops the workflow before any job starts.

:func:`settings` turns a validated section into a typed, keyword-only, frozen dataclass whose
fields are the section's keys; the code has no defaults of its own for configuration values.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import types
import typing
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jsonschema
import yaml


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


def _relation(test, words: str):
    """A keyword that checks ``test(value of a, value of b)`` for each of its pairs [a, b]."""

    def check(validator, pairs, instance, schema):
        if not isinstance(instance, dict):
            return
        for a, b in pairs:
            left, right = lookup(instance, a), lookup(instance, b)
            if not test(left, right):
                yield jsonschema.ValidationError(
                    f"'{a}' = {left!r} {words} '{b}' = {right!r}", validator_value=(a, b)
                )

    return check


def _on_grid(value: float, grid: list[float]) -> bool:
    # YAML gives the same float for the same decimal; the tolerance only absorbs float noise
    return any(math.isclose(value, g, rel_tol=0, abs_tol=1e-12) for g in grid)


def _increasing(validator, flag, instance, schema):
    if flag and isinstance(instance, list) and any(a >= b for a, b in zip(instance, instance[1:])):
        yield jsonschema.ValidationError(f"{instance!r}: the values must increase")


#: the project's keywords for relations between keys (checked once the defaults are in)
RELATIONS = {
    "x-less-than": _relation(lambda a, b: a < b, "must be less than"),
    "x-at-most": _relation(lambda a, b: a <= b, "must not exceed"),
    "x-multiple-of": _relation(lambda a, b: a % b == 0, "must be a multiple of"),
    "x-member-of": _relation(_on_grid, "must be one of the values of"),
    "x-increasing": _increasing,
}

_Filling = _with_defaults(jsonschema.Draft202012Validator)
_Relations = jsonschema.validators.extend(jsonschema.Draft202012Validator, RELATIONS)


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[")


def _describe(error: jsonschema.ValidationError) -> str:
    where = _key_path(error)
    prefix = f"{where}." if where else ""
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        names = ", ".join(f"'{prefix}{k}'" for k in extra)
        return f"unknown config key {names}; allowed keys here: {', '.join(known)}"
    if error.validator in RELATIONS and isinstance(error.validator_value, tuple):
        a, b = error.validator_value
        return "config keys " + error.message.replace(f"'{a}'", f"'{prefix}{a}'", 1).replace(
            f"'{b}'", f"'{prefix}{b}'", 1
        )
    if error.validator in ("oneOf", "anyOf") and error.context:
        # the branch of the value's own type says what is wrong with it
        relevant = [e for e in error.context if e.validator != "type"] or error.context
        error = jsonschema.exceptions.best_match(relevant)
    return f"config key '{where or '<top level>'}': {error.message}"


def _raise(errors: list[jsonschema.ValidationError]) -> None:
    if errors:
        errors = sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
        lines = "\n  ".join(_describe(e) for e in errors)
        raise ConfigError(f"invalid configuration:\n  {lines}")


def load_schema() -> dict[str, Any]:
    """The JSON Schema of the workflow configuration, as shipped with the package."""
    text = resources.files("prunephase.core").joinpath("config.schema.yaml").read_text()
    return yaml.safe_load(text)


def validate_config(
    config: Mapping[str, Any], schema: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate ``config`` and return a copy with every default filled in.

    Parameters
    ----------
    config
        The configuration as loaded from YAML (Snakemake's ``config``).
    schema
        The JSON Schema; by default the package's (:func:`load_schema`).

    Raises
    ------
    ConfigError
        Naming every offending key, e.g. ``unknown config key 'dropout_phases.foo'``,
        ``config key 'dropout_phases.p_eval[3]': 1.2 is greater than or equal to the maximum of
        1`` or ``config keys 'rap.critical.q_min' = 0.9 must be less than 'rap.critical.q_max' =
        0.5``.
    """
    schema = load_schema() if schema is None else schema
    filled = copy.deepcopy(dict(config))
    _raise(list(_Filling(schema).iter_errors(filled)))
    _raise(list(_Relations(schema).iter_errors(filled)))
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


def lookup(config: Mapping[str, Any], path: str) -> Any:
    """The value at a key path such as ``"dropout_phases.architectures[0].width"``."""
    value: Any = config
    for part in path.replace("[", ".[").split("."):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


T = typing.TypeVar("T")


def settings(cls: type[T], section: Mapping[str, Any]) -> T:
    """The settings dataclass ``cls`` built from a validated config section.

    Every field of ``cls`` is a key of the section and every key a field (a mismatch is a bug of
    the code, reported as such); nested dataclasses are built from nested sections, lists become
    tuples where the field is a tuple.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    if set(section) != fields:
        raise TypeError(
            f"{cls.__name__} does not match its config section: keys without a field "
            f"{sorted(set(section) - fields)}, fields without a key {sorted(fields - set(section))}"
        )
    hints = typing.get_type_hints(cls)
    return cls(**{name: _convert(hints[name], section[name]) for name in fields})


def _convert(hint: Any, value: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return settings(hint, value)
    if origin is tuple and isinstance(value, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value, strict=True))
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if (typing.get_origin(arg) or arg) is tuple and isinstance(value, list | tuple):
                return _convert(arg, value)
            if dataclasses.is_dataclass(arg) and isinstance(value, Mapping):
                return settings(arg, value)
        return value
    if origin is dict and isinstance(value, Mapping):
        return {k: _convert(args[1], v) for k, v in value.items()}
    return value
