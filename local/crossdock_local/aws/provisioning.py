"""Provisioning a SAM template's resources into moto, as CloudFormation would for the embedded stack.

`TemplateProvisioning` is the half of `EmbeddedAws` that turns each resource of the template into moto resources
(tables, keys, queues, roles, functions, state machines, APIs with their Cognito authorizers, user pools, schedules,
buckets, log groups, topics, alarms, dashboards, sampling rules), in the order the references demand (`_physical`
provisions what a value refers to first, like CloudFormation's dependency graph), and wires each function's events
(API routes, SQS mappings). The other half, `embedded.EmbeddedAws`, runs what was provisioned. Kept apart so each
module has one job.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from crossdock.environment import LOCAL_STACK_VARIABLE
from crossdock_local.aws import cognito, s3_buckets
from crossdock_local.aws.api import ApiGateway, Route
from crossdock_local.aws.api_authorizer import authorizers_of
from crossdock_local.aws.clock import VirtualClock
from crossdock_local.aws.iam_enforcement import IamEnforcement
from crossdock_local.aws.iam_policies import expand_roles
from crossdock_local.aws.iam_stack import StackRoles
from crossdock_local.aws.lambda_runtime import (
    FunctionSpec,
    InProcessLambda,
)
from crossdock_local.aws.scheduler import EmbeddedScheduler
from crossdock_local.aws.sqs import SqsMapping, SqsPoller
from crossdock_local.aws.template import Physical, Resolver, load_template, merge_globals
from crossdock_local.aws.xray import xray_rule_problems

LOG = logging.getLogger(__name__)

_IMPLICIT_API = "ServerlessRestApi"  # the API SAM creates for Api events without a RestApiId
# AWS::Scheduler::Schedule properties that CreateSchedule takes under the same names.
_CFN_SCHEDULE_PROPERTIES = (
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "GroupName",
    "KmsKeyArn",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "State",
    "Target",
)
_CFN_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


class TemplateProvisioning:
    """The provisioning half of `EmbeddedAws` (which sets these attributes in its `__init__`)."""

    stack_name: str
    region: str
    account_id: str
    template_path: Path
    clock: VirtualClock
    resources: dict[str, Physical]
    sampling_rules: dict[str, dict[str, Any]]
    bucket_policies: dict[str, dict[str, Any]]
    iam: IamEnforcement
    _parameters: dict[str, str]
    _template: dict[str, Any]
    _resolver: Resolver | None
    _provisioning: set[str]
    _lambdas: InProcessLambda
    _api: ApiGateway
    _roles: StackRoles | None
    _poller: SqsPoller | None
    _scheduler: EmbeddedScheduler | None

    def _client(self, service: str, role: str | None = None) -> Any:
        """A boto3 client of the runtime itself (`EmbeddedAws._client`)."""
        raise NotImplementedError

    def _provision(self) -> None:
        self._template = load_template(self.template_path)
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/embedded",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self._resolver = Resolver(self._template, pseudo, self._parameters, self._physical)
        roles = expand_roles(self._template, self._parameters, self.region, self.account_id, self.stack_name)
        self._roles = StackRoles(self.iam, roles, self._client("iam"), self._client("sts"), self._default_name)
        self._scheduler = EmbeddedScheduler(self._client("scheduler"), self.clock.time, self._invoke_scheduled_target)
        for logical_id in self._template["Resources"]:
            if self._enabled(logical_id):
                self._physical(logical_id)
        self._roles.finish(self._resolve, lambda lid: self.resources[lid].ref if lid in self.resources else None)
        self._poller = SqsPoller(self._lambdas, self._client("sqs", "runtime"), self.region)
        for logical_id, resource in self._template["Resources"].items():
            if resource["Type"] == "AWS::Serverless::Function" and self._enabled(logical_id):
                self._wire_events(logical_id, resource)

    def _enabled(self, logical_id: str) -> bool:
        condition = self._template["Resources"][logical_id].get("Condition")
        return condition is None or self._resolve_condition(condition)

    def _resolve_condition(self, name: str) -> bool:
        assert self._resolver is not None
        return self._resolver.condition(name)

    def _resolve(self, value: Any) -> Any:
        assert self._resolver is not None
        return self._resolver.resolve(value)

    def _physical(self, logical_id: str) -> Physical:
        """The resource's physical identity, provisioning it (and what it references) first if needed."""
        if logical_id in self.resources:
            return self.resources[logical_id]
        if logical_id in self._provisioning:
            raise ValueError(f"circular reference through {logical_id}")
        resource = self._template["Resources"][logical_id]
        provisioner = self._PROVISIONERS.get(resource["Type"])
        if provisioner is None:
            raise ValueError(f"{logical_id}: {resource['Type']} is not supported by the embedded runtime")
        self._provisioning.add(logical_id)
        try:
            self.resources[logical_id] = provisioner(self, logical_id, resource.get("Properties") or {})
        finally:
            self._provisioning.discard(logical_id)
        return self.resources[logical_id]

    def _default_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"[:64]

    def _provision_table(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        name = props.get("TableName", self._default_name(logical_id))
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput", "StreamSpecification"):
            if key in props:
                request[key] = props[key]
        if "StreamSpecification" in request:
            request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
        dynamodb = self._client("dynamodb")
        table = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        return Physical(name, {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn", "")})

    def _provision_key(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        request: dict[str, Any] = {"Description": props.get("Description", logical_id)}
        if "KeyPolicy" in props:
            request["Policy"] = json.dumps(props["KeyPolicy"])
        for key in ("KeyUsage", "KeySpec"):
            if key in props:
                request[key] = props[key]
        kms = self._client("kms")
        key = kms.create_key(**request)["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        return Physical(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})

    def _provision_queue(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName", self._default_name(logical_id) + (".fifo" if fifo else ""))
        attributes = {key: _attribute(props[key]) for key in _CFN_QUEUE_ATTRIBUTES if key in props}
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                attributes[key] = json.dumps(props[key])
        url = self._client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
        return Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _provision_function(self, logical_id: str, props: dict[str, Any]) -> Physical:
        merged = merge_globals(self._template.get("Globals", {}).get("Function", {}), props)
        resolve = self._resolve
        name = resolve(merged.get("FunctionName", self._default_name(logical_id)))
        code_dir = (self.template_path.parent / resolve(merged["CodeUri"])).resolve()
        assert self._roles is not None
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}",
            code_dir=code_dir,
            handler=resolve(merged["Handler"]),
            runtime=resolve(merged.get("Runtime", "python3.11")),
            timeout=int(resolve(merged.get("Timeout", 3))),
            memory_mb=int(resolve(merged.get("MemorySize", 128))),
            environment={
                **{k: str(v) for k, v in resolve(merged.get("Environment", {})).get("Variables", {}).items()},
                # Said explicitly, so a function may allow what only a local run may (crossdock.environment).
                LOCAL_STACK_VARIABLE: "true",
            },
            credentials=self._roles.function_credentials(logical_id, name),
        )
        # moto only needs the function to exist (names, ARNs, GetFunction); the code runs from spec.code_dir.
        self._client("lambda").create_function(
            FunctionName=spec.name,
            Runtime=spec.runtime,
            Role=self._roles.role_arn(logical_id),
            Handler=spec.handler,
            Code={"ZipFile": _placeholder_zip()},
            Timeout=spec.timeout,
            MemorySize=spec.memory_mb,
            Environment={"Variables": spec.environment},
            Architectures=resolve(merged.get("Architectures", ["x86_64"])),
        )
        self._lambdas.register(spec)
        return Physical(spec.name, {"Arn": spec.arn})

    def _provision_state_machine(self, logical_id: str, props: dict[str, Any]) -> Physical:
        resolve = self._resolve
        if "DefinitionUri" in props:
            definition = (self.template_path.parent / resolve(props["DefinitionUri"])).read_text(encoding="utf-8")
        else:
            definition = json.dumps(resolve(props["Definition"]))
        for key, value in resolve(props.get("DefinitionSubstitutions", {})).items():
            definition = definition.replace("${" + key + "}", str(value))
        name = resolve(props.get("Name", self._default_name(logical_id)))
        assert self._roles is not None
        arn = self._client("stepfunctions").create_state_machine(
            name=name,
            definition=definition,
            roleArn=self._roles.role_arn(logical_id),
            type=resolve(props.get("Type", "STANDARD")),
        )["stateMachineArn"]
        return Physical(arn, {"Arn": arn, "Name": name})

    def _provision_api(self, logical_id: str, props: dict[str, Any]) -> Physical:
        api_id = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:10]
        stage = self._resolve(props.get("StageName", "Prod"))
        # SAM writes `/` in a media type as `~1` (a JSON pointer escape); API Gateway matches the type it stands for.
        binary = tuple(str(t).replace("~1", "/") for t in self._resolve(props.get("BinaryMediaTypes", [])))
        auth = self._resolve(props.get("Auth", {}))
        attrs = {
            "RootResourceId": api_id[:6],
            "StageName": stage,
            "BinaryMediaTypes": binary,
            # Not CloudFormation attributes: what the embedded API Gateway needs to run the API's authorizers.
            "Authorizers": authorizers_of(auth, self.account_id, self.region, self.clock.time),
            "DefaultAuthorizer": auth.get("DefaultAuthorizer"),
        }
        return Physical(api_id, attrs)

    def _provision_user_pool(self, logical_id: str, props: dict[str, Any]) -> Physical:
        return cognito.provision_user_pool(
            self.account_id, self.region, self._default_name(logical_id), self._resolve(props)
        )

    def _provision_user_pool_client(self, logical_id: str, props: dict[str, Any]) -> Physical:
        return cognito.provision_user_pool_client(
            self.account_id, self.region, self._default_name(logical_id), self._resolve(props)
        )

    def _provision_user_pool_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        return cognito.provision_group(self.account_id, self.region, logical_id, self._resolve(props))

    def _provision_role(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """The role exists in moto with its policies (nothing here enforces IAM; references need its ARN)."""
        props = self._resolve(props)
        name = props.get("RoleName", self._default_name(logical_id))
        iam = self._client("iam")
        role = iam.create_role(
            RoleName=name,
            Path=props.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        )["Role"]
        for policy in props.get("Policies", []):
            iam.put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(policy["PolicyDocument"])
            )
        for arn in props.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return Physical(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def _provision_schedule(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """Created in moto as CloudFormation would, then run by the embedded scheduler on the virtual clock."""
        props = self._resolve(props)
        if self._lambdas.find(props["Target"]["Arn"]) is None:
            raise ValueError(f"{logical_id}: only the template's functions are supported as schedule targets")
        name = props.get("Name", self._default_name(logical_id))
        request = {key: props[key] for key in _CFN_SCHEDULE_PROPERTIES if key in props}
        arn = self._client("scheduler").create_schedule(Name=name, **request)["ScheduleArn"]
        assert self._scheduler is not None
        self._scheduler.add(name, props.get("GroupName", "default"))
        return Physical(name, {"Arn": arn})

    def _provision_schedule_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """A group for schedules the application creates at run time (they run as the template's do)."""
        props = self._resolve(props)
        name = props.get("Name", self._default_name(logical_id))
        arn = self._client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        return Physical(name, {"Arn": arn})

    def _invoke_scheduled_target(self, target_arn: str, schedule_input: str | None, role_arn: str | None) -> str | None:
        """The scheduler invokes its Lambda target with the schedule's Input as the event, as the schedule's role."""
        spec = self._lambdas.find(target_arn)
        if spec is None:
            raise ValueError(f"schedule target {target_arn} is not a function of this template")
        denied = self.iam.scheduled_invoke_denied(role_arn, target_arn)
        if denied is not None:
            return denied
        result = self._lambdas.invoke(spec, json.loads(schedule_input) if schedule_input else {}, source="scheduler")
        return str(result.error["errorType"]) if result.error else None

    def _provision_bucket(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        name = props.get("BucketName", s3_buckets.bucket_name(self.stack_name, logical_id))
        return Physical(name, s3_buckets.create_bucket(self._client("s3"), self.region, name, props))

    def _provision_bucket_policy(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """Kept in `bucket_policies`, not given to moto: moto 5.2 answers a statement whose condition it cannot
        evaluate (`aws:SecureTransport`) with a denial whatever its effect, so the template's TLS-only Deny would
        refuse every request. The functions' own policies are what is enforced locally."""
        props = self._resolve(props)
        self.bucket_policies[str(props["Bucket"])] = props["PolicyDocument"]
        return Physical(f"{props['Bucket']}-policy")

    def _provision_layer(self, logical_id: str, props: dict[str, Any]) -> Physical:
        # Layers are imported from the process's own path (PYTHONPATH); only their ARN is needed for references.
        return Physical(f"arn:aws:lambda:{self.region}:{self.account_id}:layer:{self._default_name(logical_id)}:1")

    # Observability resources exist in moto as CloudFormation would create them, so they can be looked at (retention,
    # alarm definitions, the dashboard's body); nothing here evaluates alarms or writes to the log groups.

    def _provision_log_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        name = props.get("LogGroupName", self._default_name(logical_id))
        logs = self._client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return Physical(name, {"Arn": f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}:*"})

    def _provision_topic(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        sns = self._client("sns")
        name = props.get("TopicName", self._default_name(logical_id))
        arn = sns.create_topic(Name=name)["TopicArn"]
        for subscription in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
        return Physical(arn, {"TopicArn": arn, "TopicName": name})

    def _provision_subscription(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        answer = self._client("sns").subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
        )
        return Physical(answer["SubscriptionArn"])

    def _provision_alarm(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        name = props.get("AlarmName", self._default_name(logical_id)[:255])
        # AWS::CloudWatch::Alarm properties are PutMetricAlarm's parameters under the same names.
        request = {key: value for key, value in props.items() if key != "AlarmName"}
        self._client("cloudwatch").put_metric_alarm(AlarmName=name, **request)
        return Physical(name, {"Arn": f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"})

    def _provision_dashboard(self, logical_id: str, props: dict[str, Any]) -> Physical:
        props = self._resolve(props)
        name = props.get("DashboardName", self._default_name(logical_id))
        self._client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        return Physical(name)

    def _provision_sampling_rule(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """moto has no X-Ray sampling rules and nothing is traced locally, so the rule is only checked against the
        API's limits (as CloudFormation would refuse it) and kept in `sampling_rules`."""
        rule = self._resolve(props)["SamplingRule"]
        problems = xray_rule_problems(rule)
        if problems:
            raise ValueError(f"{logical_id}: " + "; ".join(problems))
        name = str(rule["RuleName"])
        self.sampling_rules[name] = rule
        arn = f"arn:aws:xray:{self.region}:{self.account_id}:sampling-rule/{name}"
        return Physical(name, {"RuleArn": arn, "RuleName": name})

    # One provisioner per resource type; a new type is one more entry.
    _PROVISIONERS: ClassVar[dict[str, Callable[[TemplateProvisioning, str, dict[str, Any]], Physical]]] = {
        "AWS::Cognito::UserPool": _provision_user_pool,
        "AWS::Cognito::UserPoolClient": _provision_user_pool_client,
        "AWS::Cognito::UserPoolGroup": _provision_user_pool_group,
        "AWS::DynamoDB::Table": _provision_table,
        "AWS::IAM::Role": _provision_role,
        "AWS::Scheduler::Schedule": _provision_schedule,
        "AWS::Scheduler::ScheduleGroup": _provision_schedule_group,
        "AWS::KMS::Key": _provision_key,
        "AWS::SQS::Queue": _provision_queue,
        "AWS::S3::Bucket": _provision_bucket,
        "AWS::S3::BucketPolicy": _provision_bucket_policy,
        "AWS::Serverless::Function": _provision_function,
        "AWS::Serverless::StateMachine": _provision_state_machine,
        "AWS::Serverless::Api": _provision_api,
        "AWS::Serverless::LayerVersion": _provision_layer,
        "AWS::Logs::LogGroup": _provision_log_group,
        "AWS::SNS::Topic": _provision_topic,
        "AWS::SNS::Subscription": _provision_subscription,
        "AWS::CloudWatch::Alarm": _provision_alarm,
        "AWS::CloudWatch::Dashboard": _provision_dashboard,
        "AWS::XRay::SamplingRule": _provision_sampling_rule,
    }

    def _wire_events(self, logical_id: str, resource: dict[str, Any]) -> None:
        function = self._lambdas.find(logical_id)
        assert function is not None and self._poller is not None
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            props = self._resolve(event.get("Properties", {}))
            if event["Type"] == "Api":
                self._api.routes.append(self._route(function, props))
            elif event["Type"] == "SQS":
                self._poller.mappings.append(self._sqs_mapping(function, props))
            else:
                LOG.warning(
                    "%s.%s: %s events are not run by the embedded runtime", logical_id, event_name, event["Type"]
                )

    def _route(self, function: FunctionSpec, props: dict[str, Any]) -> Route:
        api_id = props.get("RestApiId") or self._implicit_api().ref
        api = next(p for p in self.resources.values() if p.ref == api_id)
        method = props["Method"].upper()
        binary = api.attrs.get("BinaryMediaTypes", ())
        # SAM: an event's `Auth.Authorizer` names one of its API's authorizers, or NONE; without it, the default.
        authorizer_name = (props.get("Auth") or {}).get("Authorizer", api.attrs.get("DefaultAuthorizer"))
        authorizers = api.attrs.get("Authorizers", {})
        if authorizer_name not in (None, "NONE") and authorizer_name not in authorizers:
            raise ValueError(f"{method} {props['Path']}: its API has no authorizer {authorizer_name!r}")
        return Route(
            api_id,
            api.attrs["StageName"],
            method,
            props["Path"],
            function,
            binary_media_types=binary,
            authorizer=authorizers.get(authorizer_name) if authorizer_name != "NONE" else None,
        )

    def _implicit_api(self) -> Physical:
        if _IMPLICIT_API not in self.resources:
            self.resources[_IMPLICIT_API] = self._provision_api(_IMPLICIT_API, {"StageName": "Prod"})
        return self.resources[_IMPLICIT_API]

    def _sqs_mapping(self, function: FunctionSpec, props: dict[str, Any]) -> SqsMapping:
        queue = next(p for p in self.resources.values() if p.attrs.get("Arn") == props["Queue"])
        assert self._roles is not None
        self._roles.check_event_source(function.logical_id, props["Queue"])
        return SqsMapping(
            function=function,
            queue_arn=props["Queue"],
            queue_url=queue.ref,
            batch_size=int(props.get("BatchSize", 10)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        )


def _attribute(value: Any) -> str:
    """A CloudFormation property value as an SQS attribute string (booleans lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    raise RuntimeError('runs in-process')\n")
    return buffer.getvalue()
