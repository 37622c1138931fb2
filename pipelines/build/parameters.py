"""The build pipeline's parameters: everything a user would override at start time.

The QualityCheck switches carry the names AWS's own templates use, but default to the first-run
behaviour (skip the check, register the new baseline), so a fresh account needs no overrides.
`*QualityCheckFailOnViolation` say whether a check's violations stop the build (QualityCheck's
`fail_on_violation`, default true); off, the build goes on and the violations are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sagemaker.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterInteger, ParameterString

from pipelines.build.settings import PipelineSettings


@dataclass(frozen=True)
class BuildParameters:
    input_data: ParameterString
    human_labels: ParameterString
    processing_instance_type: ParameterString
    processing_instance_count: ParameterInteger
    training_instance_type: ParameterString
    baseline_instance_type: ParameterString
    model_approval_status: ParameterString
    auc_threshold: ParameterFloat
    num_round: ParameterInteger
    max_depth: ParameterInteger
    eta: ParameterFloat
    skip_data_quality_check: ParameterBoolean
    register_new_data_quality_baseline: ParameterBoolean
    data_quality_supplied_statistics: ParameterString
    data_quality_supplied_constraints: ParameterString
    skip_model_quality_check: ParameterBoolean
    register_new_model_quality_baseline: ParameterBoolean
    model_quality_supplied_statistics: ParameterString
    model_quality_supplied_constraints: ParameterString
    data_quality_fail_on_violation: ParameterBoolean
    model_quality_fail_on_violation: ParameterBoolean

    def as_list(self) -> list:
        return [getattr(self, f.name) for f in fields(self)]


def build_parameters(settings: PipelineSettings, input_data_uri: str, human_labels_uri: str) -> BuildParameters:
    return BuildParameters(
        input_data=ParameterString("InputDataUrl", default_value=input_data_uri),
        human_labels=ParameterString("HumanLabelsUrl", default_value=human_labels_uri),
        processing_instance_type=ParameterString("ProcessingInstanceType", settings.processing_instance_type),
        processing_instance_count=ParameterInteger("ProcessingInstanceCount", default_value=1),
        training_instance_type=ParameterString("TrainingInstanceType", settings.training_instance_type),
        baseline_instance_type=ParameterString("BaselineInstanceType", settings.baseline_instance_type),
        model_approval_status=ParameterString("ModelApprovalStatus", default_value="PendingManualApproval"),
        auc_threshold=ParameterFloat("AucThreshold", default_value=settings.auc_threshold),
        num_round=ParameterInteger("NumRound", default_value=100),
        max_depth=ParameterInteger("MaxDepth", default_value=5),
        eta=ParameterFloat("Eta", default_value=0.2),
        skip_data_quality_check=ParameterBoolean("SkipDataQualityCheck", default_value=True),
        register_new_data_quality_baseline=ParameterBoolean("RegisterNewDataQualityBaseline", default_value=True),
        data_quality_supplied_statistics=ParameterString("DataQualitySuppliedStatistics", default_value=""),
        data_quality_supplied_constraints=ParameterString("DataQualitySuppliedConstraints", default_value=""),
        skip_model_quality_check=ParameterBoolean("SkipModelQualityCheck", default_value=True),
        register_new_model_quality_baseline=ParameterBoolean("RegisterNewModelQualityBaseline", default_value=True),
        model_quality_supplied_statistics=ParameterString("ModelQualitySuppliedStatistics", default_value=""),
        model_quality_supplied_constraints=ParameterString("ModelQualitySuppliedConstraints", default_value=""),
        data_quality_fail_on_violation=ParameterBoolean("DataQualityCheckFailOnViolation", default_value=True),
        model_quality_fail_on_violation=ParameterBoolean("ModelQualityCheckFailOnViolation", default_value=True),
    )
