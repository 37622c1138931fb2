"""The hourly post-processing job that starts the human loops, scheduled as the `processing` monitor
engine schedules its checks (pipelines/deploy/scheduler_target.py): an EventBridge Scheduler
schedule `<endpoint>-human-review` whose universal target sends CreateProcessingJob.

The job runs processing/start_human_loops.py on the XGBoost 3.0-5 image from a FrameworkProcessor
bundle, with this command line (its contract; the job reads and writes S3 itself):

    --capture-uri s3://…/datacapture/<endpoint>     the endpoint's captured data
    --scheduled-time <aws.scheduler.scheduled-time>  it checks the full hour before this time
    --flow-definition-arn ARN                      the flow definition its loops use
    --audit-rate 0.05                              share of confident predictions also reviewed
    --output-uri s3://…/human-review/<endpoint>/manifests   (<output-uri>/yyyy/mm/dd/hh/manifest.json)
    --region R

Builders are pure (spec → request dict).
"""

from __future__ import annotations

from pipelines.deploy.code_bundle import CONTAINER_ENTRYPOINT, CodeLocation
from pipelines.deploy.review_spec import ReviewSpec
from pipelines.deploy.scheduler_target import EXECUTION_ID, SCHEDULED_TIME, code_inputs, schedule_request
from pipelines.deploy.scheduler_target import job_name_prefix as _job_name_prefix

MAX_RUNTIME = 1800  # well within the hour, so one hour's job never overlaps the next one's
JOB_TAG = "hr"


def job_name_prefix(spec: ReviewSpec) -> str:
    """`<endpoint, cut>-hr-<hash>`: the post-processing jobs are `<prefix>-<execution id>`."""
    return _job_name_prefix(spec.endpoint, JOB_TAG, spec.schedule)


def starter_arguments(spec: ReviewSpec, flow_definition_arn: str) -> list[str]:
    """processing/start_human_loops.py's command line, with Scheduler's scheduled-time placeholder."""
    return [
        "--capture-uri", spec.capture_uri,
        "--scheduled-time", SCHEDULED_TIME,
        "--flow-definition-arn", flow_definition_arn,
        "--audit-rate", str(float(spec.settings.audit_rate)),
        "--output-uri", spec.manifest_uri,
        "--region", spec.region,
    ]  # fmt: skip


def starter_job_template(spec: ReviewSpec, code: CodeLocation, image_uri: str, flow_definition_arn: str) -> dict:
    """The CreateProcessingJob request the schedule sends, with Scheduler's placeholders in it."""
    settings = spec.settings
    return {
        "ProcessingJobName": f"{job_name_prefix(spec)}-{EXECUTION_ID}",
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": settings.instance_type,
                "VolumeSizeInGB": settings.volume_size_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_RUNTIME},
        "AppSpecification": {
            "ImageUri": image_uri,
            "ContainerEntrypoint": list(CONTAINER_ENTRYPOINT),
            "ContainerArguments": starter_arguments(spec, flow_definition_arn),
        },
        "ProcessingInputs": code_inputs(code),
        "RoleArn": spec.job_role_arn,
        "Tags": spec.tags,
    }


def review_schedule_request(spec: ReviewSpec, template: dict, scheduler_role_arn: str) -> dict:
    description = f"starts human loops for endpoint {spec.endpoint}'s uncertain predictions (start_human_loops.py)"
    return schedule_request(spec.schedule, description, template, scheduler_role_arn)
