"""Launching the packaged templates in moto's CloudFormation, which creates the resource types it supports.

moto creates no CodeBuild project, CodePipeline, model package group, alarm, task UI, bucket policy or
inline role policy from a template, and fails on a Ref or GetAtt to them (and on a GetAtt of an EFS file
system, which it creates); `supported_subset` leaves those resources out and puts placeholders where the
others refer to them, so everything moto knows is created from the template's own properties. Two adaptations to moto's handlers: AWS::KMS::Key passes
`Tags` to moto's KMS API, which names them TagKey/TagValue; AWS::StepFunctions::StateMachine reads only
`DefinitionString`, so `Definition` + `DefinitionSubstitutions` become the `DefinitionString` they mean
(`Fn::Sub` over the definition's JSON with the substitutions as its variables). moto applies only the
encryption and tags of a bucket; the other bucket settings are checked by cfn-lint and checkov.
"""

from __future__ import annotations

import copy
import json

PLACEHOLDER_ARN = "arn:aws:iam::123456789012:role/placeholder"


def supported_subset(template: dict) -> tuple[dict, set[str]]:
    from moto.cloudformation.parsing import get_model_map

    models = get_model_map()
    template = copy.deepcopy(template)
    dropped = {k for k, r in template["Resources"].items() if r["Type"] not in models}
    # resources moto creates but cannot give attributes of (its model has no get_cfn_attribute)
    mute = dropped | {
        k
        for k, r in template["Resources"].items()
        if k not in dropped and not hasattr(models[r["Type"]], "get_cfn_attribute")
    }

    def fix(value):
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in dropped:
                return f"placeholder-{value['Ref'].lower()}"
            if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in mute:
                return PLACEHOLDER_ARN
            if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
                text = value["Fn::Sub"]
                for name in mute:
                    text = text.replace("${" + name + ".Arn}", PLACEHOLDER_ARN)
                for name in dropped:
                    text = text.replace("${" + name + "}", "placeholder")
                return {"Fn::Sub": text}
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    template["Resources"] = {k: fix(r) for k, r in template["Resources"].items() if k not in dropped}
    template["Outputs"] = {k: o for k, o in template.get("Outputs", {}).items() if fix(o) == o}
    template.pop("Rules", None)  # moto does not evaluate Rules
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::KMS::Key":
            properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and "Definition" in properties:
            text = json.dumps(properties.pop("Definition"))
            properties["DefinitionString"] = {"Fn::Sub": [text, properties.pop("DefinitionSubstitutions", {})]}
    return template, dropped


def launch(cloudformation, name: str, template: dict, parameters: dict[str, str]) -> dict:
    """Create the stack from the moto-supported part of `template`; its description."""
    body, _ = supported_subset(template)
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
