"""The product template as launched: `templates/product.yaml` with its generated parts filled in.

The source marks what only Python can produce with `{mlops::Generate: <what>}`:
- `state-machine-definition`: the deploy state machine of every choice of MonitorEngine × Review, as
  its builder emits it (state_machine.py); identical definitions are embedded once, and `Fn::If` over
  generated conditions picks the one the stack's parameters select;
- `state-machine-substitutions`: `DefinitionSubstitutions` for the `${Name}` placeholders they use;
- `state-machine-policy`: the state machine role's policy for the selected definition (machine_policy.py);
- `deploy-rule-pattern` / `deploy-rule-input`: the deploy workflow's EventBridge pattern and input transformer
  (pipelines/deploy/workflow/trigger.py), for the project's model package group;
- `region`: the region the file was packaged for (a Rule refuses a launch elsewhere).
A2I's task UI is the workflow's to create (with its flow definition), not the stack's.
Every marker must be filled and every generated part used, or packaging fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.template.machine_policy import policy_document
from pipelines.template.state_machine import ENGINES, REVIEWS, MachineOptions, embedded_definition

MARKER = "mlops::Generate"
# Placeholder -> the template's value for it (Ref/GetAtt as CloudFormation writes them).
SUBSTITUTION_VALUES: dict[str, object] = {
    "ProjectName": {"Ref": "SageMakerProjectName"},
    "ProjectId": {"Ref": "SageMakerProjectId"},
    "ArtifactBucket": {"Ref": "ArtifactBucket"},
    "CodeBucket": {"Ref": "CodeBucket"},
    "ModelRoleArn": {"Fn::GetAtt": ["ModelExecutionRole", "Arn"]},
    "SchedulerRoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
    # A resource of the A2IReview condition: only the A2I definitions use it, and their conditions imply it.
    "ReviewRoleArn": {"Fn::GetAtt": ["ReviewRole", "Arn"]},
    "WorkteamArn": {"Ref": "WorkteamArn"},
    "ApprovalTopicArn": {"Ref": "ApprovalTopic"},
    "KmsKeyArn": {"Fn::GetAtt": ["KmsKey", "Arn"]},
    "AccountId": {"Ref": "AWS::AccountId"},
}
ENGINE_CONDITIONS = {"managed": "ManagedEngine", "processing": "ProcessingEngine"}
REVIEW_VALUES = {"a2i": "a2i", "portal": "portal", "none": "none"}


class PackageError(ValueError):
    """The source template and the generated parts do not fit together."""


@dataclass(frozen=True)
class Variant:
    """One distinct definition and the option choices that select it."""

    definition: dict
    substitutions: list[str]
    choices: list[MachineOptions]

    @property
    def suffix(self) -> str:
        """`ProcessingA2I`, `AnyEnginePortalOrNone`: the choices that select it, for logical ids and conditions."""
        return _words([c.monitor_engine for c in self.choices], ENGINES, "AnyEngine") + _words(
            [c.review for c in self.choices], REVIEWS, "AnyReview"
        )


def _words(values: list[str], every: tuple[str, ...], anything: str) -> str:
    distinct = [v for v in every if v in values]
    if len(distinct) == len(every) and len(every) > 1:
        return anything
    return "Or".join(v.title() for v in distinct)


def variants(region: str) -> list[Variant]:
    """The distinct deploy definitions over every MonitorEngine × Review, in a stable order."""
    found: dict[str, Variant] = {}
    for engine in ENGINES:
        for review in REVIEWS:
            options = MachineOptions(engine, review)
            definition, used = embedded_definition(region, options)
            key = json.dumps(definition, sort_keys=True)
            if key in found:
                found[key].choices.append(options)
            else:
                found[key] = Variant(definition, used, [options])
    return list(found.values())


PER_VARIANT = ("state-machine-definition", "state-machine-substitutions", "state-machine-policy")


def build_product(source: dict, region: str) -> dict:
    """The launchable product template (a new dict; `source` is left as it is)."""
    template = json.loads(json.dumps(source))
    chosen = variants(region)
    used = sorted({name for variant in chosen for name in variant.substitutions})
    unknown = [name for name in used if name not in SUBSTITUTION_VALUES]
    if unknown:
        raise PackageError(f"the definition uses placeholders the template cannot fill: {', '.join(unknown)}")
    conditions = template.setdefault("Conditions", {})
    resources = {}
    filled: set[str] = set()
    for logical_id, resource in template["Resources"].items():
        if not _markers(resource) & set(PER_VARIANT):
            resources[logical_id] = resource
            continue
        if "Condition" in resource:
            raise PackageError(f"{logical_id} holds a per-definition part and a Condition of its own")
        for variant in chosen:
            condition = f"Deploy{variant.suffix}"
            conditions[condition] = _selects(variant.choices)
            copy = json.loads(json.dumps(resource))
            copy["Condition"] = condition
            filled |= fill_markers(
                copy,
                {
                    "state-machine-definition": lambda v=variant: v.definition,
                    "state-machine-substitutions": lambda v=variant: {
                        n: SUBSTITUTION_VALUES[n] for n in v.substitutions
                    },
                    "state-machine-policy": lambda v=variant: policy_document(v.definition),
                },
            )
            resources[logical_id + variant.suffix] = copy
    template["Resources"] = resources
    parts: dict[str, Callable[[], object]] = {
        "region": lambda: region,
        "deploy-rule-pattern": deploy_rule_pattern,
        "deploy-rule-input": deploy_rule_input,
    }
    filled |= fill_markers(template, parts)
    missing = sorted((set(parts) | set(PER_VARIANT)) - filled)
    if missing:
        raise PackageError(f"templates/product.yaml has no {MARKER} marker for: {', '.join(missing)}")
    return template


GROUP = {"Fn::Sub": "${SageMakerProjectName}-${SageMakerProjectId}"}


def deploy_rule_pattern() -> dict:
    """The workflow's event pattern (approvals of this group only), the group written as the template's."""
    from pipelines.deploy.workflow.trigger import event_pattern

    pattern = event_pattern("group")
    pattern["detail"]["ModelPackageGroupName"] = [GROUP]
    return pattern


def deploy_rule_input() -> dict:
    """The workflow's input transformer: the execution input its definition reads."""
    from pipelines.deploy.workflow.trigger import input_transformer

    return input_transformer()


def _markers(value) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {MARKER}:
            return {value[MARKER]}
        return set().union(*(_markers(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_markers(v) for v in value)) if value else set()
    return set()


def fill_markers(template: dict, parts: dict[str, Callable[[], object]]) -> set[str]:
    """Replace every `{mlops::Generate: what}` in place; returns the parts used. Unknown markers fail."""
    used: set[str] = set()

    def visit(value):
        if isinstance(value, dict):
            if set(value) == {MARKER}:
                what = value[MARKER]
                if what not in parts:
                    raise PackageError(f"unknown {MARKER} marker {what!r}")
                used.add(what)
                return parts[what]()
            return {k: visit(v) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v) for v in value]
        return value

    for section in list(template):
        template[section] = visit(template[section])
    return used


def _selects(choices: list[MachineOptions]) -> dict:
    """A condition true exactly when the parameters choose one of these engine/review pairs."""
    terms = [
        {
            "Fn::And": [
                {"Condition": ENGINE_CONDITIONS[c.monitor_engine]},
                {"Fn::Equals": [{"Ref": "Review"}, REVIEW_VALUES[c.review]]},
            ]
        }
        for c in choices
    ]
    return terms[0] if len(terms) == 1 else {"Fn::Or": terms}
