"""Check a state machine definition before it is stored, with AWS's problem codes and JSON-pointer locations.

This is the structural subset the interpreter relies on (states, transitions, retriers, catchers, nested
branches and iterators), not a full ASL schema; statelint, in the tests, holds the definitions to the rest.
"""

from __future__ import annotations

import json
from typing import Any

from offline.stepfunctions.choice import COMPARATORS
from offline.stepfunctions.errors import ALL

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_TERMINAL = ("Succeed", "Fail", "Choice")
_WAIT_FIELDS = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")


class DefinitionError(ValueError):
    """The definition is not valid JSON or not a state machine the interpreter can run."""


def load(text: str) -> dict:
    """Parse and check a definition; DefinitionError lists every problem found."""
    try:
        definition = json.loads(text)
    except ValueError as e:
        raise DefinitionError(f"INVALID_JSON_DESCRIPTION: {e}") from e
    found = problems(definition)
    if found:
        raise DefinitionError(", ".join(found))
    return definition


def problems(definition: Any, where: str = "") -> list[str]:
    if not isinstance(definition, dict):
        return [f"SCHEMA_VALIDATION_FAILED: The state machine must be an object at {where or '/'}"]
    if definition.get("QueryLanguage", "JSONPath") != "JSONPath":
        return [
            f"SCHEMA_VALIDATION_FAILED: Only the JSONPath query language is supported locally at {where}/QueryLanguage"
        ]
    states = definition.get("States")
    if not isinstance(states, dict) or not states:
        return [f"SCHEMA_VALIDATION_FAILED: These fields are required: [States] at {where or '/'}"]
    found = []
    start = definition.get("StartAt")
    if not isinstance(start, str):
        found.append(f"SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at {where or '/'}")
    elif start not in states:
        found.append(f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {start} at {where}/StartAt")
    for name, state in states.items():
        found += _state_problems(name, state, states, f"{where}/States/{name}")
    return found


def _state_problems(name: str, state: Any, states: dict, at: str) -> list[str]:
    if not isinstance(state, dict):
        return [f"SCHEMA_VALIDATION_FAILED: A state must be an object at {at}"]
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        return [f"SCHEMA_VALIDATION_FAILED: Value is not one of {list(STATE_TYPES)} at {at}/Type"]
    found = []
    if kind not in _TERMINAL:
        has_next, has_end = "Next" in state, state.get("End") is True
        if has_next == has_end:
            found.append(f"SCHEMA_VALIDATION_FAILED: Exactly one of 'Next' or 'End' is required at {at}")
        elif has_next:
            found += _target(state["Next"], states, f"{at}/Next")
    if kind == "Task" and not isinstance(state.get("Resource"), str):
        found.append(f"SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at {at}")
    if kind == "Wait" and sum(field in state for field in _WAIT_FIELDS) != 1:
        found.append(f"SCHEMA_VALIDATION_FAILED: Exactly one of {', '.join(_WAIT_FIELDS)} is required at {at}")
    if kind == "Choice":
        found += _choice_problems(state, states, at)
    if kind == "Parallel":
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            found.append(f"SCHEMA_VALIDATION_FAILED: These fields are required: [Branches] at {at}")
        else:
            for i, branch in enumerate(branches):
                found += problems(branch, f"{at}/Branches[{i}]")
    if kind == "Map":
        key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        processor = state.get(key)
        mode = processor.get("ProcessorConfig", {}).get("Mode", "INLINE") if isinstance(processor, dict) else None
        if mode != "INLINE" or "ItemReader" in state:
            found.append(f"SCHEMA_VALIDATION_FAILED: Only inline Map states run locally (no distributed Map) at {at}")
        found += problems(processor, f"{at}/{key}")
    if kind in ("Task", "Parallel", "Map"):
        found += _handler_problems(state, states, at)
    return found


def _target(target: Any, states: dict, at: str) -> list[str]:
    if target in states:
        return []
    return [f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {target} at {at}"]


def _choice_problems(state: dict, states: dict, at: str) -> list[str]:
    choices = state.get("Choices")
    if not isinstance(choices, list) or not choices:
        return [f"SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at {at}"]
    found = []
    for i, rule in enumerate(choices):
        if not isinstance(rule, dict) or "Next" not in rule:
            found.append(f"SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at {at}/Choices[{i}]")
            continue
        found += _target(rule["Next"], states, f"{at}/Choices[{i}]/Next")
        found += _rule_problems(rule, f"{at}/Choices[{i}]")
    if "Default" in state:
        found += _target(state["Default"], states, f"{at}/Default")
    return found


def _rule_problems(rule: Any, at: str) -> list[str]:
    if not isinstance(rule, dict):
        return [f"SCHEMA_VALIDATION_FAILED: A choice rule must be an object at {at}"]
    for combinator in ("And", "Or"):
        if combinator in rule:
            nested = rule[combinator]
            if not isinstance(nested, list) or not nested:
                return [f"SCHEMA_VALIDATION_FAILED: {combinator} needs a non-empty list at {at}/{combinator}"]
            return [p for i, r in enumerate(nested) for p in _rule_problems(r, f"{at}/{combinator}[{i}]")]
    if "Not" in rule:
        return _rule_problems(rule["Not"], f"{at}/Not")
    if not isinstance(rule.get("Variable"), str) or not any(key in COMPARATORS for key in rule):
        return [f"SCHEMA_VALIDATION_FAILED: A choice rule needs a Variable and one comparison operator at {at}"]
    return []


def _handler_problems(state: dict, states: dict, at: str) -> list[str]:
    found = []
    for field in ("Retry", "Catch"):
        handlers = state.get(field, [])
        if not isinstance(handlers, list):
            found.append(f"SCHEMA_VALIDATION_FAILED: {field} must be a list at {at}/{field}")
            continue
        for i, handler in enumerate(handlers):
            where = f"{at}/{field}[{i}]"
            errors = handler.get("ErrorEquals") if isinstance(handler, dict) else None
            if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
                found.append(f"SCHEMA_VALIDATION_FAILED: These fields are required: [ErrorEquals] at {where}")
                continue
            if ALL in errors and (len(errors) > 1 or i != len(handlers) - 1):
                found.append(f"SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in the last {field} at {where}")
            if field == "Catch":
                found += _target(handler.get("Next"), states, f"{where}/Next")
    return found
