"""CloudFormation YAML in and out, short-form intrinsics (`!Sub`, `!Ref`, `!GetAtt a.b`, …) kept as written.

PyYAML refuses unknown tags, and CloudFormation's are not YAML's. Loading turns each tag into its
long form (`{"Fn::Sub": …}`, `{"Ref": …}`), which is what CloudFormation itself does, so the loaded
template is plain data (dicts, lists, strings) that code can walk and edit; dumping writes the long
forms back as short tags, so a packaged template reads like its source.
"""

from __future__ import annotations

from typing import Any

import yaml

# short tag -> the long form's key
FUNCTIONS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "And",
            "Base64",
            "Cidr",
            "Equals",
            "FindInMap",
            "GetAZs",
            "GetAtt",
            "If",
            "ImportValue",
            "Join",
            "Not",
            "Or",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Length",
        )
    },
}
_SHORT = {long: short for short, long in FUNCTIONS.items()}


class TemplateError(ValueError):
    """The text is not a CloudFormation template this module can read."""


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # a template repeats values; anchors would only obscure it
        return True


def _construct(tag: str):
    key = FUNCTIONS[tag]

    def construct(loader: _Loader, node: yaml.Node) -> dict:
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":  # `!GetAtt Resource.Attribute` is `Fn::GetAtt: [Resource, Attribute]`
                resource, _, attribute = str(value).partition(".")
                value = [resource, attribute]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    return construct


for _tag in FUNCTIONS:
    _Loader.add_constructor(f"!{_tag}", _construct(_tag))


def _represent_dict(dumper: _Dumper, data: dict) -> yaml.Node:
    if len(data) == 1:
        ((key, value),) = data.items()
        short = _SHORT.get(key)
        if short == "GetAtt" and isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            return dumper.represent_scalar("!GetAtt", f"{value[0]}.{value[1]}")
        if short is not None and not (short == "Condition" and not isinstance(value, str)):
            tag = f"!{short}"
            if isinstance(value, list):
                return dumper.represent_sequence(tag, value)
            if isinstance(value, dict):
                return dumper.represent_mapping(tag, value)
            return dumper.represent_scalar(tag, str(value))
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items())


_Dumper.add_representer(dict, _represent_dict)


def loads(text: str) -> dict:
    """A template's YAML (or JSON) text as plain data, intrinsics in their long form."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: builds no arbitrary objects
    except yaml.YAMLError as e:
        raise TemplateError(f"not valid CloudFormation YAML: {e}") from e
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError("not a CloudFormation template: no Resources section")
    return data


def dumps(template: dict) -> str:
    """YAML text with short-form intrinsics; keys keep their order, long strings are not folded."""
    return yaml.dump(template, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
