"""Local SageMaker over the json protocol: the model registry operations the template uses, and the human
review resources (task UIs, flow definitions, RenderUiTemplate) the A2I runtime works with.

Requests are checked against botocore's model of SageMaker (types, required and unknown members, then
enums, patterns, lengths and ranges, worded as AWS words them) before the registry sees them; responses
are serialized from the operation's output shape (epoch-second timestamps, as the json protocol sends).
"""

from __future__ import annotations

from botocore.model import OperationModel

from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.aws.protocols import Context
from offline.aws.protocols.json import JsonProtocol
from offline.aws.sagemaker.backend import ModelRegistry
from offline.aws.sagemaker.endpoints import Hosting, hosting_operation
from offline.aws.sagemaker.errors import ValidationException
from offline.aws.sagemaker.human_review import HumanReviewResources
from offline.aws.sagemaker.monitoring import MonitoringResources
from offline.aws.service import Service, operation
from offline.aws.shapes import service_model, validation_errors


class SageMakerService(Service):
    name = "sagemaker"

    def __init__(self, runtime):
        model = service_model(self.name)
        super().__init__(JsonProtocol(model))
        self.registry = ModelRegistry(runtime.db, LOCAL_ACCOUNT_ID)
        self.hosting = Hosting(runtime, self.registry)
        self.human_review = HumanReviewResources(runtime.db, runtime.store, runtime.home, LOCAL_ACCOUNT_ID)
        self.monitoring = MonitoringResources(runtime.db, self.hosting, LOCAL_ACCOUNT_ID)
        self.registry.on_approved.append(_deploy_trigger(runtime))

    def validate(self, op: OperationModel, params: dict) -> None:
        problem = validation_errors(op.input_shape, params)
        if problem:
            raise ValidationException(problem)

    # -- models, endpoint configurations, endpoints: offline/aws/sagemaker/endpoints.py ---------------------

    create_model = hosting_operation("CreateModel")
    describe_model = hosting_operation("DescribeModel")
    delete_model = hosting_operation("DeleteModel")
    list_models = hosting_operation("ListModels")
    create_endpoint_config = hosting_operation("CreateEndpointConfig")
    describe_endpoint_config = hosting_operation("DescribeEndpointConfig")
    delete_endpoint_config = hosting_operation("DeleteEndpointConfig")
    list_endpoint_configs = hosting_operation("ListEndpointConfigs")
    create_endpoint = hosting_operation("CreateEndpoint")
    describe_endpoint = hosting_operation("DescribeEndpoint")
    update_endpoint = hosting_operation("UpdateEndpoint")
    delete_endpoint = hosting_operation("DeleteEndpoint")
    list_endpoints = hosting_operation("ListEndpoints")

    # -- model package groups --------------------------------------------------------------------------

    @operation("CreateModelPackageGroup")
    def create_model_package_group(self, params: dict, ctx: Context) -> dict:
        return {"ModelPackageGroupArn": self.registry.create_group(ctx.region, params)}

    @operation("DescribeModelPackageGroup")
    def describe_model_package_group(self, params: dict, ctx: Context) -> dict:
        return self.registry.describe_group(ctx.region, params["ModelPackageGroupName"])

    @operation("ListModelPackageGroups")
    def list_model_package_groups(self, params: dict, ctx: Context) -> dict:
        page = self.registry.list_groups(ctx.region, params)
        return {"ModelPackageGroupSummaryList": page.items, "NextToken": page.next_token}

    @operation("DeleteModelPackageGroup")
    def delete_model_package_group(self, params: dict, ctx: Context) -> dict:
        self.registry.delete_group(ctx.region, params["ModelPackageGroupName"])
        return {}

    # -- model packages --------------------------------------------------------------------------------

    @operation("CreateModelPackage")
    def create_model_package(self, params: dict, ctx: Context) -> dict:
        return {"ModelPackageArn": self.registry.create_package(ctx.region, params)}

    @operation("DescribeModelPackage")
    def describe_model_package(self, params: dict, ctx: Context) -> dict:
        return self.registry.describe_package(ctx.region, params["ModelPackageName"])

    @operation("ListModelPackages")
    def list_model_packages(self, params: dict, ctx: Context) -> dict:
        page = self.registry.list_packages(ctx.region, params)
        return {"ModelPackageSummaryList": page.items, "NextToken": page.next_token}

    @operation("UpdateModelPackage")
    def update_model_package(self, params: dict, ctx: Context) -> dict:
        return {"ModelPackageArn": self.registry.update_package(ctx.region, params)}

    @operation("DeleteModelPackage")
    def delete_model_package(self, params: dict, ctx: Context) -> dict:
        self.registry.delete_package(ctx.region, params["ModelPackageName"])
        return {}

    # -- tags ------------------------------------------------------------------------------------------

    @operation("AddTags")
    def add_tags(self, params: dict, ctx: Context) -> dict:
        return {"Tags": self.registry.add_tags(params["ResourceArn"], params["Tags"])}

    @operation("ListTags")
    def list_tags(self, params: dict, ctx: Context) -> dict:
        page = self.registry.list_tags(params["ResourceArn"], params)
        return {"Tags": page.items, "NextToken": page.next_token}

    @operation("DeleteTags")
    def delete_tags(self, params: dict, ctx: Context) -> dict:
        self.registry.delete_tags(params["ResourceArn"], params["TagKeys"])
        return {}

    # -- human review (A2I's resources) ----------------------------------------------------------------

    @operation("CreateHumanTaskUi")
    def create_human_task_ui(self, params: dict, ctx: Context) -> dict:
        return {"HumanTaskUiArn": self.human_review.create_task_ui(ctx.region, params)}

    @operation("DescribeHumanTaskUi")
    def describe_human_task_ui(self, params: dict, ctx: Context) -> dict:
        return self.human_review.describe_task_ui(ctx.region, params["HumanTaskUiName"])

    @operation("ListHumanTaskUis")
    def list_human_task_uis(self, params: dict, ctx: Context) -> dict:
        page = self.human_review.list_task_uis(ctx.region, params)
        return {"HumanTaskUiSummaries": page.items, "NextToken": page.next_token}

    @operation("DeleteHumanTaskUi")
    def delete_human_task_ui(self, params: dict, ctx: Context) -> dict:
        self.human_review.delete_task_ui(ctx.region, params["HumanTaskUiName"])
        return {}

    @operation("CreateFlowDefinition")
    def create_flow_definition(self, params: dict, ctx: Context) -> dict:
        return {"FlowDefinitionArn": self.human_review.create_flow_definition(ctx.region, params)}

    @operation("DescribeFlowDefinition")
    def describe_flow_definition(self, params: dict, ctx: Context) -> dict:
        return self.human_review.describe_flow_definition(ctx.region, params["FlowDefinitionName"])

    @operation("ListFlowDefinitions")
    def list_flow_definitions(self, params: dict, ctx: Context) -> dict:
        page = self.human_review.list_flow_definitions(ctx.region, params)
        return {"FlowDefinitionSummaries": page.items, "NextToken": page.next_token}

    @operation("DeleteFlowDefinition")
    def delete_flow_definition(self, params: dict, ctx: Context) -> dict:
        self.human_review.delete_flow_definition(ctx.region, params["FlowDefinitionName"])
        return {}

    @operation("RenderUiTemplate")
    def render_ui_template(self, params: dict, ctx: Context) -> dict:
        return self.human_review.render_ui_template(params)

    # -- Model Monitor: job definitions and monitoring schedules (offline/aws/sagemaker/monitoring.py) ------

    @operation("CreateDataQualityJobDefinition")
    def create_data_quality_job_definition(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.create_job_definition("DataQuality", ctx.region, params)

    @operation("DescribeDataQualityJobDefinition")
    def describe_data_quality_job_definition(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.describe_job_definition("DataQuality", ctx.region, params)

    @operation("DeleteDataQualityJobDefinition")
    def delete_data_quality_job_definition(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.delete_job_definition("DataQuality", ctx.region, params)

    @operation("ListDataQualityJobDefinitions")
    def list_data_quality_job_definitions(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.list_job_definitions("DataQuality", ctx.region, params)

    @operation("CreateModelQualityJobDefinition")
    def create_model_quality_job_definition(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.create_job_definition("ModelQuality", ctx.region, params)

    @operation("DescribeModelQualityJobDefinition")
    def describe_model_quality_job_definition(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.describe_job_definition("ModelQuality", ctx.region, params)

    @operation("DeleteModelQualityJobDefinition")
    def delete_model_quality_job_definition(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.delete_job_definition("ModelQuality", ctx.region, params)

    @operation("ListModelQualityJobDefinitions")
    def list_model_quality_job_definitions(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.list_job_definitions("ModelQuality", ctx.region, params)

    @operation("CreateMonitoringSchedule")
    def create_monitoring_schedule(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.create_schedule(ctx.region, params)

    @operation("DescribeMonitoringSchedule")
    def describe_monitoring_schedule(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.describe_schedule(ctx.region, params)

    @operation("UpdateMonitoringSchedule")
    def update_monitoring_schedule(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.update_schedule(ctx.region, params)

    @operation("DeleteMonitoringSchedule")
    def delete_monitoring_schedule(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.delete_schedule(ctx.region, params)

    @operation("ListMonitoringSchedules")
    def list_monitoring_schedules(self, params: dict, ctx: Context) -> dict:
        return self.monitoring.list_schedules(ctx.region, params)


def _deploy_trigger(runtime):
    """A package of a group set up for deployment became Approved: start its deploy (offline/deploy/trigger.py)."""

    def on_approved(region: str, package: dict) -> None:
        from offline.deploy.trigger import start_deploy

        start_deploy(runtime, region, package)

    return on_approved
