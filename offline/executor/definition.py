"""A pipeline definition: parameters and steps, checked up front so a bad file fails clearly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_VERSION = "2020-12-01"
PARAMETER_TYPES = {"String": str, "Integer": int, "Float": float, "Boolean": bool}
STEP_TYPES = {"Processing", "Training", "QualityCheck", "RegisterModel", "Condition", "Fail"}


class DefinitionError(ValueError):
    """The definition is not one this runner can execute; the message says where and why."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: object = None

    def coerce(self, raw: object) -> object:
        """A value given as text (`--param Name=Value`) or JSON, converted to the parameter's type."""
        kind = PARAMETER_TYPES[self.type]
        if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
            return raw
        text = str(raw).strip()
        try:
            if kind is bool:
                if text.lower() not in ("true", "false"):
                    raise ValueError
                return text.lower() == "true"
            return kind(text)
        except ValueError:
            raise DefinitionError(f"parameter {self.name} is {self.type}; {raw!r} is not one") from None


@dataclass
class Step:
    name: str
    type: str
    arguments: dict
    depends_on: list[str] = field(default_factory=list)
    property_files: list[dict] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    branch_of: tuple[str, bool] | None = None  # (condition step, outcome that runs it)


@dataclass
class Definition:
    parameters: dict[str, Parameter]
    steps: dict[str, Step]
    raw: dict

    def parameter_values(self, overrides: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(overrides) - set(self.parameters))
        if unknown:
            raise DefinitionError(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(self.parameters)}")
        values = {}
        for name, parameter in self.parameters.items():
            if name in overrides:
                values[name] = parameter.coerce(overrides[name])
            elif parameter.default is not None:
                values[name] = parameter.coerce(parameter.default)
            else:
                raise DefinitionError(f"parameter {name} has no default value: pass --param {name}=...")
        return values


def load_definition(source: str | Path | dict) -> Definition:
    """Parse a definition from a dict, a JSON string or a file path."""
    if isinstance(source, dict):
        raw = source
    else:
        text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise DefinitionError(f"the definition is not valid JSON: {e}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("Steps"), list):
        raise DefinitionError("a pipeline definition is a JSON object with a 'Steps' list")
    version = raw.get("Version", SUPPORTED_VERSION)
    if version != SUPPORTED_VERSION:
        raise DefinitionError(f"definition version {version!r} is not supported (only {SUPPORTED_VERSION})")
    parameters = {}
    for p in raw.get("Parameters", []):
        if p.get("Type") not in PARAMETER_TYPES or not p.get("Name"):
            raise DefinitionError(f"parameter {p!r} needs a Name and a Type among {sorted(PARAMETER_TYPES)}")
        parameters[p["Name"]] = Parameter(p["Name"], p["Type"], p.get("DefaultValue"))
    steps: dict[str, Step] = {}
    _collect(raw["Steps"], steps, branch_of=None)
    for step in steps.values():
        for dependency in step.depends_on:
            if dependency not in steps:
                raise DefinitionError(f"step {step.name} depends on unknown step {dependency!r}")
    return Definition(parameters=parameters, steps=steps, raw=raw)


def _collect(items: list, steps: dict[str, Step], branch_of: tuple[str, bool] | None) -> None:
    for item in items:
        if not isinstance(item, dict) or not item.get("Name") or not item.get("Type"):
            raise DefinitionError(f"every step needs a Name and a Type: {str(item)[:120]}")
        name, kind = item["Name"], item["Type"]
        if kind not in STEP_TYPES:
            raise DefinitionError(
                f"step {name}: type {kind!r} is not supported locally (supported: {sorted(STEP_TYPES)})"
            )
        if name in steps:
            raise DefinitionError(f"two steps are named {name!r}")
        arguments = item.get("Arguments", {})
        steps[name] = Step(
            name=name,
            type=kind,
            arguments=arguments,
            depends_on=list(item.get("DependsOn", [])),
            property_files=list(item.get("PropertyFiles", [])),
            raw=item,
            branch_of=branch_of,
        )
        if kind == "Condition":
            _collect(arguments.get("IfSteps", []), steps, branch_of=(name, True))
            _collect(arguments.get("ElseSteps", []), steps, branch_of=(name, False))
