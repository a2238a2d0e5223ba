"""The project's CKV_HADR checkov checks: each passes a compliant resource and fails non-compliant ones, run by
checkov itself (policies/checkov loaded with --external-checks-dir) on Terraform JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tools.scan import POLICIES, PROJECT_CHECK, project_check_ids, run_checkov

ARN_KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DB = {"engine": "postgres", "instance_class": "db.t3.medium", "kms_key_id": ARN_KEY}
TABLE = {"name": "items", "hash_key": "id", "billing_mode": "PAY_PER_REQUEST", "attribute": [{"name": "id", "type": "S"}]}
RULE = {"rule_name": "daily", "target_vault_name": "vault", "schedule": "cron(0 5 * * ? *)"}
COPY = {"copy_action": [{"destination_vault_arn": "arn:aws:backup:us-west-2:123456789012:backup-vault:copy"}]}
REPLICATION = {
    "status": "Enabled",
    "delete_marker_replication": {"status": "Enabled"},
    "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
}
DESTINATION = {"bucket": "arn:aws:s3:::replica", "encryption_configuration": {"replica_kms_key_id": ARN_KEY}}
FUNCTION = {"function_name": "f", "role": "arn:aws:iam::123456789012:role/f", "runtime": "python3.12", "handler": "h.h"}
DLQ = {"dead_letter_config": {"target_arn": "arn:aws:sqs:us-west-2:123456789012:dlq"}}
ORIGINS = [{"origin_id": region, "domain_name": f"{region}.example.com"} for region in ("primary", "standby")]
ORIGIN_GROUP = {
    "origin_id": "failover",
    "failover_criteria": {"status_codes": [500, 502, 503, 504]},
    "member": [{"origin_id": "primary"}, {"origin_id": "standby"}],
}


def automation(*steps: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    document = {"schemaVersion": "0.3", "parameters": parameters or {}, "mainSteps": list(steps)}
    return {"name": "d", "document_type": "Automation", "content": json.dumps(document)}


def yaml_automation(*steps: dict[str, Any]) -> dict[str, Any]:
    """The same document written in YAML, as aws_ssm_document accepts it with document_format = "YAML"."""
    content = yaml.safe_dump({"schemaVersion": "0.3", "mainSteps": list(steps)})
    return {"name": "d", "document_type": "Automation", "document_format": "YAML", "content": content}


def script(name: str, timeout: int | str) -> dict[str, Any]:
    return {
        "name": name,
        "action": "aws:executeScript",
        "timeoutSeconds": timeout,
        "inputs": {"Handler": "h", "Script": "def h(e, c): ..."},
    }


def loop(inner: dict[str, Any]) -> dict[str, Any]:
    condition = {"Variable": "{{ check.Pending }}", "BooleanEquals": True}
    return {"name": "wait", "action": "aws:loop", "inputs": {"MaxIterations": 10, "LoopCondition": condition, "Steps": [inner]}}


def health(detail: dict[str, Any]) -> dict[str, Any]:
    return {"source": ["aws.health"], "detail-type": ["AWS Health Event"], "detail": detail}


def event_rule(pattern: dict[str, Any]) -> dict[str, Any]:
    return {"name": "r", "event_pattern": json.dumps(pattern)}


OPEN_ISSUES = {"eventTypeCategory": ["issue"], "service": ["EC2", "RDS"], "statusCode": ["open"]}
CNAME = {"zone_id": "Z1", "type": "CNAME", "ttl": 60, "records": ["x"]}
VALIDATION_NAME = (
    '${[for o in aws_acm_certificate.c.domain_validation_options : o.resource_record_name if o.domain_name == "api.example.com"][0]}'
)
DEFAULT_ASG_ROLE = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def failover_alias(*, evaluate_target_health: bool) -> dict[str, Any]:
    """A primary failover record that aliases a load balancer, as a warm standby's would."""
    alias = {"name": "lb.example.com", "zone_id": "Z2", "evaluate_target_health": evaluate_target_health}
    return {
        "zone_id": "Z1",
        "name": "www.example.com",
        "type": "A",
        "set_identifier": "primary",
        "failover_routing_policy": {"type": "PRIMARY"},
        "alias": alias,
    }


ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]


def behavior(target: str) -> dict[str, Any]:
    return {"target_origin_id": target, "viewer_protocol_policy": "https-only", "allowed_methods": ["GET", "HEAD"]}


#: check ID -> resource type -> {name: config}; names starting "good" must pass, "bad" must fail.
CASES: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "CKV_HADR_1": (
        "aws_dynamodb_table",
        {
            "good_global_table": {**TABLE, "point_in_time_recovery": {"enabled": True}, "replica": [{"region_name": "eu-central-1"}]},
            "good_replica_resources": {**TABLE, "point_in_time_recovery": {"enabled": True}, "lifecycle": {"ignore_changes": ["replica"]}},
            "bad_no_replica": {**TABLE, "point_in_time_recovery": {"enabled": True}},
            # Ignoring `replica` is what a table with replica resources must do; with no such resource it is single-region.
            "bad_only_ignores_replica": {
                **TABLE,
                "point_in_time_recovery": {"enabled": True},
                "lifecycle": {"ignore_changes": ["replica"]},
            },
            "bad_no_pitr": {**TABLE, "replica": [{"region_name": "eu-central-1"}]},
        },
    ),
    "CKV_HADR_2": (
        "aws_db_instance",
        {
            "good_primary": {**DB, "multi_az": True, "backup_retention_period": 7},
            "good_multi_az_as_a_string": {**DB, "multi_az": "true", "backup_retention_period": "7"},  # Terraform JSON takes both
            "bad_single_az": {**DB, "multi_az": False, "backup_retention_period": 7},
            "bad_short_retention": {**DB, "multi_az": True, "backup_retention_period": 1},
        },
    ),
    "CKV_HADR_3": (
        "aws_db_instance",
        {
            "good_replica": {**DB, "replicate_source_db": "arn:aws:rds:us-east-1:123456789012:db:main", "backup_retention_period": 7},
            "good_key_by_reference": {
                **DB,
                "replicate_source_db": "arn:aws:rds:us-east-1:123456789012:db:main",
                "kms_key_id": "${aws_kms_key.replica.arn}",
                "backup_retention_period": 7,
            },
            "bad_same_region_replica": {**DB, "replicate_source_db": "main", "backup_retention_period": 7},
            # An ARN alone proves nothing: the replica's key is in the source's region, so the replica is too.
            "bad_source_arn_in_the_keys_region": {
                **DB,
                "replicate_source_db": "arn:aws:rds:us-west-2:123456789012:db:main",
                "backup_retention_period": 7,
            },
            "bad_source_not_a_db_instance": {
                **DB,
                "replicate_source_db": "arn:aws:rds:us-east-1:123456789012:cluster:main",
                "backup_retention_period": 7,
            },
            "bad_replica_without_backups": {**DB, "replicate_source_db": "arn:aws:rds:us-east-1:123456789012:db:main"},
        },
    ),
    "CKV_HADR_4": (
        "aws_route53_record",
        {
            "good_weighted": {
                "zone_id": "Z1",
                "name": "api.example.com",
                "type": "A",
                "set_identifier": "eu-west-1",
                "weighted_routing_policy": {"weight": 50},
                "health_check_id": "hc-1",
            },
            "good_alias_evaluates_its_target": failover_alias(evaluate_target_health=True),
            "bad_alias_not_evaluated": failover_alias(evaluate_target_health=False),
            "bad_multivalue_unchecked": {
                **CNAME,
                "type": "A",
                "name": "api.example.com",
                "set_identifier": "a",
                "multivalue_answer_routing_policy": True,
            },
            "bad_geolocation_unchecked": {
                **CNAME,
                "name": "api.example.com",
                "set_identifier": "eu",
                "geolocation_routing_policy": {"continent": "EU"},
            },
            "bad_failover_unchecked": {
                "zone_id": "Z1",
                "name": "www.example.com",
                "type": "A",
                "set_identifier": "primary",
                "failover_routing_policy": {"type": "PRIMARY"},
            },
        },
    ),
    "CKV_HADR_5": (
        "aws_autoscaling_group",
        {
            "good_two_subnets_elb": {
                "min_size": 1,
                "max_size": 2,
                "vpc_zone_identifier": ["subnet-a", "subnet-b"],
                "health_check_type": "ELB",
            },
            "bad_one_subnet": {"min_size": 1, "max_size": 2, "vpc_zone_identifier": ["subnet-a"], "health_check_type": "ELB"},
            "bad_one_subnet_twice": {
                "min_size": 1,
                "max_size": 2,
                "vpc_zone_identifier": ["subnet-a", "subnet-a"],
                "health_check_type": "ELB",
            },
            "bad_ec2_health": {"min_size": 1, "max_size": 2, "vpc_zone_identifier": ["subnet-a", "subnet-b"], "health_check_type": "EC2"},
        },
    ),
    "CKV_HADR_6": (
        "aws_backup_plan",
        {
            "good_every_rule_copies": {"name": "plan", "rule": [{**RULE, **COPY}]},
            "bad_one_rule_stays": {"name": "plan", "rule": [{**RULE, **COPY}, {**RULE, "rule_name": "weekly"}]},
            "bad_copy_without_a_destination": {"name": "plan", "rule": [{**RULE, "copy_action": [{"destination_vault_arn": ""}]}]},
            "bad_no_rules": {"name": "plan"},
        },
    ),
    "CKV_HADR_7": (
        "aws_backup_vault",
        {
            "good_cmk": {"name": "vault", "kms_key_arn": ARN_KEY},
            "bad_default_key": {"name": "vault"},
            "bad_aws_managed_key": {"name": "vault", "kms_key_arn": "arn:aws:kms:us-west-2:123456789012:alias/aws/backup"},
            "bad_aws_managed_alias_name": {"name": "vault", "kms_key_arn": "alias/aws/backup"},
        },
    ),
    "CKV_HADR_8": (
        "aws_s3_bucket_versioning",
        {
            "good_enabled": {"bucket": "b", "versioning_configuration": {"status": "Enabled"}},
            "bad_suspended": {"bucket": "b", "versioning_configuration": {"status": "Suspended"}},
            "bad_disabled": {"bucket": "b", "versioning_configuration": {"status": "Disabled"}},
        },
    ),
    "CKV_HADR_9": (
        "aws_s3_bucket_replication_configuration",
        {
            "good_complete": {"bucket": "b", "role": "r", "rule": [{**REPLICATION, "destination": DESTINATION}]},
            "bad_keeps_deleted": {
                "bucket": "b",
                "role": "r",
                "rule": [{**REPLICATION, "delete_marker_replication": {"status": "Disabled"}, "destination": DESTINATION}],
            },
            "bad_not_reencrypted": {
                "bucket": "b",
                "role": "r",
                "rule": [{**REPLICATION, "destination": {"bucket": "arn:aws:s3:::replica"}}],
            },
            "bad_skips_kms_objects": {  # S3 then replicates no SSE-KMS object at all
                "bucket": "b",
                "role": "r",
                "rule": [
                    {
                        **REPLICATION,
                        "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Disabled"}},
                        "destination": DESTINATION,
                    }
                ],
            },
            "bad_no_selection": {
                "bucket": "b",
                "role": "r",
                "rule": [{"status": "Enabled", "delete_marker_replication": {"status": "Enabled"}, "destination": DESTINATION}],
            },
        },
    ),
    "CKV_HADR_10": (
        "aws_cloudwatch_log_group",
        {
            "good_kept_and_encrypted": {"name": "/app", "retention_in_days": 365, "kms_key_id": ARN_KEY},
            "bad_kept_forever": {"name": "/app", "kms_key_id": ARN_KEY},
            "bad_kept_forever_by_zero": {"name": "/app", "retention_in_days": 0, "kms_key_id": ARN_KEY},
            "bad_unencrypted": {"name": "/app", "retention_in_days": 365},
        },
    ),
    "CKV_HADR_11": (
        "aws_lambda_function",
        {
            "good_resilient": {**FUNCTION, "tracing_config": {"mode": "Active"}, "reserved_concurrent_executions": 10},
            "bad_unreserved": {**FUNCTION, **DLQ, "tracing_config": {"mode": "Active"}, "reserved_concurrent_executions": -1},
            "bad_untraced": {**FUNCTION, **DLQ, "tracing_config": {"mode": "PassThrough"}, "reserved_concurrent_executions": 10},
            "bad_reserved_zero_throttles_everything": {
                **FUNCTION,
                **DLQ,
                "tracing_config": {"mode": "Active"},
                "reserved_concurrent_executions": 0,
            },
        },
    ),
    "CKV_HADR_12": (
        "aws_cloudfront_distribution",
        {
            "good_group_behind_default": {
                "origin": ORIGINS,
                "origin_group": [ORIGIN_GROUP],
                "default_cache_behavior": behavior("failover"),
            },
            "good_group_behind_an_ordered_catch_all": {
                "origin": ORIGINS,
                "origin_group": [ORIGIN_GROUP],
                "default_cache_behavior": behavior("primary"),
                "ordered_cache_behavior": [{**behavior("failover"), "path_pattern": "*"}],
            },
            "good_writes_to_one_origin": {  # CloudFront fails over GET, HEAD and OPTIONS only
                "origin": [*ORIGINS, {"origin_id": "writer", "domain_name": "writer.example.com"}],
                "origin_group": [ORIGIN_GROUP],
                "default_cache_behavior": behavior("failover"),
                "ordered_cache_behavior": [{**behavior("writer"), "path_pattern": "/api/*", "allowed_methods": ALL_METHODS}],
            },
            # The group takes /static/* only: every other read goes to the primary alone.
            "bad_group_only_behind_a_path": {
                "origin": ORIGINS,
                "origin_group": [ORIGIN_GROUP],
                "default_cache_behavior": behavior("primary"),
                "ordered_cache_behavior": [{**behavior("failover"), "path_pattern": "/static/*"}],
            },
            "bad_reads_bypass_the_group": {
                "origin": ORIGINS,
                "origin_group": [ORIGIN_GROUP],
                "default_cache_behavior": behavior("failover"),
                "ordered_cache_behavior": [{**behavior("primary"), "path_pattern": "/images/*"}],
            },
            "bad_group_unused": {"origin": ORIGINS, "origin_group": [ORIGIN_GROUP], "default_cache_behavior": behavior("primary")},
            "bad_single_origin": {"origin": ORIGINS[:1], "default_cache_behavior": behavior("primary")},
        },
    ),
    "CKV_HADR_13": (
        "aws_lambda_function",
        {
            "good_dead_letters": {**FUNCTION, **DLQ},
            "bad_no_dead_letters": {**FUNCTION, "tracing_config": {"mode": "Active"}, "reserved_concurrent_executions": 10},
            "bad_empty_target": {**FUNCTION, "dead_letter_config": {"target_arn": ""}},
        },
    ),
    "CKV_HADR_14": (
        "aws_dynamodb_table_replica",
        {
            "good_protected": {"global_table_arn": "arn", "deletion_protection_enabled": True, "point_in_time_recovery": True},
            "good_protected_as_strings": {
                "global_table_arn": "arn",
                "deletion_protection_enabled": "true",
                "point_in_time_recovery": "true",
            },
            "bad_unprotected": {"global_table_arn": "arn", "point_in_time_recovery": True},
            "bad_no_pitr": {"global_table_arn": "arn", "deletion_protection_enabled": True, "point_in_time_recovery": False},
        },
    ),
    "CKV_APPLY_1": (
        "aws_ssm_document",
        {
            "good_short_steps": automation(script("start", 300), loop(script("check", 120))),
            "good_yaml_short_steps": yaml_automation(script("start", 300)),
            "good_timeout_from_a_parameter": automation(
                script("start", "{{ Timeout }}"), parameters={"Timeout": {"type": "String", "default": "300"}}
            ),
            "bad_script_over_600": automation(script("restore", 7200)),
            "bad_script_in_loop_over_600": automation(loop(script("check", 900))),
            "bad_yaml_script_over_600": yaml_automation(script("restore", 7200)),
            "bad_timeout_in_a_string": automation(script("restore", "7200")),
            "bad_timeout_from_a_parameter": automation(
                script("restore", "{{ Timeout }}"), parameters={"Timeout": {"type": "String", "default": "7200"}}
            ),
            "bad_timeout_from_a_parameter_without_default": automation(
                script("restore", "{{ Timeout }}"), parameters={"Timeout": {"type": "String"}}
            ),
            "bad_content_known_at_apply": {"name": "d", "document_type": "Automation", "content": '${file("doc.json")}'},
        },
    ),
    "CKV_APPLY_2": (
        "aws_lambda_function",
        {
            "good_wait_inside": {**FUNCTION, "timeout": 900, "environment": {"variables": {"WAIT_TIMEOUT_SECONDS": "780"}}},
            "good_no_waits": {**FUNCTION, "timeout": 10, "environment": {"variables": {"TABLE_NAME": "t"}}},
            "bad_wait_reaches_timeout": {**FUNCTION, "timeout": 60, "environment": {"variables": {"POLL_TIMEOUT_SECONDS": "60"}}},
            "bad_wait_past_default_timeout": {**FUNCTION, "environment": {"variables": {"WAIT_SECONDS": "5"}}},
            "good_milliseconds_within": {**FUNCTION, "timeout": 3, "environment": {"variables": {"POLL_INTERVAL_MS": "500"}}},
            "good_a_window_is_not_a_wait": {**FUNCTION, "timeout": 60, "environment": {"variables": {"SIGNAL_SECONDS": "300"}}},
            "bad_wait_in_milliseconds": {**FUNCTION, "timeout": 30, "environment": {"variables": {"POLL_DEADLINE_MS": "60000"}}},
            "bad_wait_in_minutes": {**FUNCTION, "timeout": 60, "environment": {"variables": {"WAIT_MINUTES": "2"}}},
            "bad_wait_without_a_unit": {**FUNCTION, "timeout": 30, "environment": {"variables": {"DB_TIMEOUT": "30"}}},
        },
    ),
    "CKV_APPLY_3": (
        "aws_cloudwatch_event_rule",
        {
            "good_filtered": event_rule(health(OPEN_ISSUES)),
            "good_not_health": event_rule({"source": ["aws.cloudwatch"]}),
            "bad_every_service": event_rule(health({"eventTypeCategory": ["issue"], "statusCode": ["open"]})),
            "bad_closed_too": event_rule(health({**OPEN_ISSUES, "statusCode": ["open", "closed"]})),
            "bad_a_prefix_names_every_service": event_rule(health({**OPEN_ISSUES, "service": [{"prefix": ""}]})),
            "bad_inside_or": event_rule({"$or": [{"source": ["aws.cloudwatch"]}, health({"eventTypeCategory": ["issue"]})]}),
        },
    ),
    "CKV_APPLY_4": (
        "aws_route53_record",
        {
            "good_one_owner": {**CNAME, "name": VALIDATION_NAME},
            "good_not_validation": {**CNAME, "name": "www.example.com", "allow_overwrite": True},
            "bad_shared": {**CNAME, "name": VALIDATION_NAME, "allow_overwrite": True},
            "bad_shared_as_a_string": {**CNAME, "name": VALIDATION_NAME, "allow_overwrite": "true"},
            "bad_shared_through_for_each": {
                **CNAME,
                "for_each": "${{for o in aws_acm_certificate.c.domain_validation_options : o.domain_name => o}}",
                "name": "${each.value.resource_record_name}",
                "allow_overwrite": True,
            },
        },
    ),
    "CKV_APPLY_5": (
        "aws_db_instance",
        {
            "good_own_secret": {**DB, "password": "from-our-secret"},
            "bad_managed_source": {**DB, "manage_master_user_password": True},
            "bad_managed_as_a_string": {**DB, "manage_master_user_password": "true"},
            "bad_managed_replica": {
                **DB,
                "replicate_source_db": "arn:aws:rds:us-east-1:123456789012:db:p",
                "manage_master_user_password": True,
            },
        },
    ),
    "CKV2_APPLY_6": (
        "aws_kms_key",
        {
            "good_unused_by_templates": {"policy": "{}"},
            "good_names_the_role_resource": {
                "policy": "${jsonencode({Statement = [{Principal = {AWS = aws_iam_service_linked_role.asg.arn}}]})}"
            },
            "good_names_the_default_role": {
                "policy": "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
            },
            "bad_template_key_without_the_role": {"policy": "{}"},
        },
    ),
}

#: Resources the graph checks need next to their cases: CKV2_APPLY_6 templates that use three keys and the role;
#: the replica resource of CKV_HADR_1's table whose replicas are resources.
GRAPH_NEIGHBOURS: dict[str, dict[str, dict[str, Any]]] = {
    "aws_dynamodb_table_replica": {
        "of_good_replica_resources": {
            "global_table_arn": "${aws_dynamodb_table.hadr_1_good_replica_resources.arn}",
            "point_in_time_recovery": True,
            "deletion_protection_enabled": True,
        }
    },
    "aws_iam_service_linked_role": {"asg": {"aws_service_name": "autoscaling.amazonaws.com", "custom_suffix": "x"}},
    "aws_launch_template": {
        f"uses_{key}": {
            "block_device_mappings": [
                {"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "kms_key_id": f"${{aws_kms_key.ckv2_apply_6_{key}.arn}}"}}
            ]
        }
        for key in ("good_names_the_role_resource", "good_names_the_default_role", "bad_template_key_without_the_role")
    },
}

#: Checks that read a second resource type: the same check ID, more cases.
CLUSTER = {"cluster_identifier": "c", "engine": "aurora-postgresql", "storage_encrypted": True}
SECONDARY = {**CLUSTER, "global_cluster_identifier": "g", "source_region": "us-east-1", "backup_retention_period": 7}
EXTRA_CASES: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "CKV_HADR_2": (
        "aws_rds_cluster",
        {
            "good_writer_cluster": {**CLUSTER, "global_cluster_identifier": "g", "backup_retention_period": 7},
            "bad_cluster_short_retention": {**CLUSTER, "backup_retention_period": 1},
        },
    ),
    "CKV_HADR_3": (
        "aws_rds_cluster",
        {
            "good_secondary": {**SECONDARY, "kms_key_id": "arn:aws:kms:us-west-1:123456789012:key/k"},
            "good_secondary_key_by_reference": {**SECONDARY, "kms_key_id": "${aws_kms_key.k.arn}"},
            "bad_secondary_without_key": SECONDARY,
            "bad_secondary_key_in_the_source_region": {**SECONDARY, "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k"},
            "bad_secondary_outside_a_global_cluster": {
                **{k: v for k, v in SECONDARY.items() if k != "global_cluster_identifier"},
                "kms_key_id": "${aws_kms_key.k.arn}",
            },
        },
    ),
    "CKV_APPLY_5": (
        "aws_rds_cluster",
        {
            "good_cluster_own_secret": {**CLUSTER, "master_password_wo": "from-our-secret"},
            "bad_cluster_managed": {**CLUSTER, "manage_master_user_password": True},
        },
    ),
    "CKV_HADR_14": (
        "aws_dynamodb_table",
        {
            "good_no_replica_blocks": {**TABLE, "lifecycle": {"ignore_changes": ["replica"]}},
            "bad_replica_block": {**TABLE, "replica": [{"region_name": "eu-central-1", "point_in_time_recovery": True}]},
        },
    ),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """(check ID, resource address) -> PASSED/FAILED, from one checkov run over every case."""
    folder = tmp_path_factory.mktemp("policy-cases")
    document: dict[str, dict[str, dict[str, Any]]] = {}
    for check_id, (resource_type, cases) in [*CASES.items(), *EXTRA_CASES.items()]:
        prefix = check_id.lower().replace("ckv_", "")
        for name, body in cases.items():
            document.setdefault(resource_type, {})[f"{prefix}_{name}"] = body
    for resource_type, bodies in GRAPH_NEIGHBOURS.items():
        document.setdefault(resource_type, {}).update(bodies)
    (folder / "cases.tf.json").write_text(json.dumps({"resource": document}, indent=1))
    found: dict[tuple[str, str], str] = {}
    for report in run_checkov(folder):
        for kind, outcome in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
            for check in report.get("results", {}).get(kind, []):
                if PROJECT_CHECK.fullmatch(f'check_id = "{check["check_id"]}"'):
                    found[(check["check_id"], check["resource"].split(".", 1)[1])] = outcome
    return found


def test_every_project_check_has_compliant_and_non_compliant_cases() -> None:
    assert project_check_ids() == list(CASES)
    for check_id, (_, cases) in CASES.items():
        assert any(n.startswith("good") for n in cases) and any(n.startswith("bad") for n in cases), check_id


@pytest.mark.parametrize("check_id", list(CASES))
def test_check_passes_compliant_and_fails_non_compliant_resources(outcomes: dict[tuple[str, str], str], check_id: str) -> None:
    prefix = check_id.lower().replace("ckv_", "")
    names = [*CASES[check_id][1], *EXTRA_CASES.get(check_id, ("", {}))[1]]
    expected = {f"{prefix}_{name}": "PASSED" if name.startswith("good") else "FAILED" for name in names}
    actual = {name: outcomes.get((check_id, name), "NOT RUN") for name in expected}
    assert actual == expected


def test_one_check_per_file() -> None:
    for file in [*POLICIES.glob("*.py"), *POLICIES.glob("*.yaml")]:
        declared = len(PROJECT_CHECK.findall(file.read_text()))
        assert declared == (0 if file.name in ("__init__.py", "hadr_common.py") else 1), file.name
