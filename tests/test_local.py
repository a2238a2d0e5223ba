"""The local pipeline's parts: IAM enforcement, recovery from a retried create or lock request, and drift
classification. The deploy, drill and destroy themselves run once, in tests/test_emulator_deployment.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modules.base import EMULATOR_MAX_RETRIES
from tools import local
from tools.emulator import Emulator
from tools.terraform import terraform_error_blocks


def test_iam_enforcement_switches_on_and_off(tmp_path: Path) -> None:
    """With enforcement on, the fake credentials that deploy everything are refused; off again, they work."""
    from botocore.exceptions import ClientError

    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        emulator.enforce_iam(True)
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            emulator.client("s3", "us-east-1").list_buckets()
        emulator.enforce_iam(False)
        assert emulator.client("s3", "us-east-1").list_buckets()["Buckets"] == []


def write_stack(stack_dir: Path, endpoint: str, services: tuple[str, ...], resources: dict[str, Any]) -> None:
    """A one-provider stack in eu-west-1 against the emulator at `endpoint`, its state in a local file beside it."""
    provider = {
        "region": "eu-west-1",
        "endpoints": [dict.fromkeys((*services, "sts"), endpoint)],
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": "true",
        "max_retries": EMULATOR_MAX_RETRIES,
    }
    backend = {"local": {"path": str(stack_dir.parent / f"{stack_dir.name}.tfstate")}}
    required = {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}
    stack = {"terraform": {"backend": backend, "required_providers": required}, "provider": {"aws": [provider]}, "resource": resources}
    stack_dir.mkdir(parents=True, exist_ok=True)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))


def stack_state(stack_dir: Path) -> dict[str, Any]:
    return json.loads((stack_dir.parent / f"{stack_dir.name}.tfstate").read_text())


@pytest.mark.slow
@pytest.mark.terraform
def test_a_create_the_emulator_completed_before_the_provider_retried_is_imported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the provider's client can give up on a create that moto then completes; the retry
    finds the name taken (WAFDuplicateItemException). deploy-local imports that resource and applies again."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    visibility = {"cloudwatch_metrics_enabled": False, "metric_name": "acl", "sampled_requests_enabled": False}
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        stack_dir = tmp_path / "out" / "stacks" / "waf"
        acl = {"name": "retried-acl", "scope": "REGIONAL", "default_action": {"allow": {}}, "visibility_config": visibility}
        write_stack(stack_dir, emulator.endpoint, ("wafv2",), {"aws_wafv2_web_acl": {"acl": acl}})
        wafv2 = emulator.client("wafv2", "eu-west-1")
        created = wafv2.create_web_acl(
            Name="retried-acl",
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig={"CloudWatchMetricsEnabled": False, "MetricName": "acl", "SampledRequestsEnabled": False},
        )["Summary"]
        result = local.plan_and_apply(stack_dir, {**terraform_env(), **emulator.environment()}, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary == "0 added, 0 changed, 0 destroyed (imported 1 resource(s) created by a retried call)"
        assert [acl["Id"] for acl in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]] == [created["Id"]]
        assert stack_state(stack_dir)["resources"][0]["instances"][0]["attributes"]["id"] == created["Id"]
        other = terraform_error_blocks("Error: something else\n\n  with aws_wafv2_web_acl.acl,\n")
        assert local.adopt_duplicates(emulator, stack_dir, other, {}) == []


@pytest.mark.slow
@pytest.mark.terraform
def test_a_security_group_rule_and_a_record_the_emulator_created_before_the_retry_are_imported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a rule and a record set, as CI runs of the shared deployment saw: the retried
    AuthorizeSecurityGroupEgress finds the rule (InvalidPermission.Duplicate), found by its group, direction,
    description and ports; the retried CREATE of a validation record finds it (InvalidChangeBatch, "already
    exists"), found by the name and type Route 53 names, in the stack's zone."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        ec2 = emulator.client("ec2", "eu-west-1")
        route53 = emulator.client("route53", "us-east-1")
        zone = route53.create_hosted_zone(Name="example.com", CallerReference="retried")["HostedZone"]["Id"].split("/")[-1]
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        group = {"name": "retried-group", "description": "retried", "vpc_id": vpc}
        peer = {"name": "retried-peer", "description": "the rule's peer", "vpc_id": vpc}
        to_peer = {"security_group_id": "${aws_security_group.group.id}", "referenced_security_group_id": "${aws_security_group.peer.id}",
                   "description": "8080/tcp to web", "ip_protocol": "tcp", "from_port": 8080, "to_port": 8080}  # fmt: skip
        rule = {
            "security_group_id": "${aws_security_group.group.id}",
            "description": "HTTPS to the endpoints",
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "cidr_ipv4": "10.9.0.0/16",
        }
        record = {"zone_id": zone, "name": "${aws_security_group.group.id}.example.com", "type": "CNAME", "ttl": 60,
                  "records": ["validation.acm.example"]}  # fmt: skip
        stack_dir = tmp_path / "out" / "stacks" / "rules"
        env = {**terraform_env(), **emulator.environment()}
        services = ("ec2", "route53")
        groups = {"group": group, "peer": peer}
        write_stack(stack_dir, emulator.endpoint, services, {"aws_security_group": groups})
        assert local.plan_and_apply(stack_dir, env, emulator).ok
        ids = {g["GroupName"]: g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
        group_id = ids["retried-group"]
        permission = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
        ip_range = {"CidrIp": "10.9.0.0/16", "Description": "HTTPS to the endpoints"}
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=[{**permission, "IpRanges": [ip_range]}])
        pair = {"GroupId": ids["retried-peer"], "Description": "8080/tcp to web"}  # as CI saw it: a rule to another group
        ec2.authorize_security_group_egress(
            GroupId=group_id, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [pair]}]
        )
        record_set = {
            "Name": f"{group_id}.example.com",
            "Type": "CNAME",
            "TTL": 60,
            "ResourceRecords": [{"Value": "validation.acm.example"}],
        }
        route53.change_resource_record_sets(
            HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record_set}]}
        )
        resources = {"aws_security_group": groups, "aws_vpc_security_group_egress_rule": {"https": rule, "to_peer": to_peer}}
        write_stack(stack_dir, emulator.endpoint, services, {**resources, "aws_route53_record": {"validation": record}})
        result = local.plan_and_apply(stack_dir, env, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary.endswith("(imported 3 resource(s) created by a retried call)"), result.summary
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
        assert [(r["IsEgress"], r.get("Description")) for r in rules if r.get("CidrIpv4") == "10.9.0.0/16"] == [
            (True, "HTTPS to the endpoints")
        ]
        imported = {r["name"]: r["instances"][0]["attributes"]["id"] for r in stack_state(stack_dir)["resources"]}
        assert imported["validation"] == f"{zone}_{group_id}.example.com_CNAME"
        assert imported["to_peer"].startswith("sgr-")


@pytest.mark.slow
@pytest.mark.terraform
def test_a_route_and_a_parameter_the_emulator_created_before_the_retry_are_imported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a CI run of the shared deployment saw: the retried CreateRoute finds the route (RouteAlreadyExists), found
    in the route table the stack names by its Name tag; the retried PutParameter finds the parameter
    (ParameterAlreadyExists), found by its name. Both are imported and the stack applies."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        ec2, ssm = emulator.client("ec2", "eu-west-1"), emulator.client("ssm", "eu-west-1")
        vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        stack_dir = tmp_path / "out" / "stacks" / "routes"
        env = {**terraform_env(), **emulator.environment()}
        table = {"vpc_id": vpc, "tags": {"Name": "retried-table"}}
        write_stack(stack_dir, emulator.endpoint, ("ec2", "ssm"), {"aws_route_table": {"table": table}})
        assert local.plan_and_apply(stack_dir, env, emulator).ok
        (table_id,) = [
            t["RouteTableId"] for t in ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["retried-table"]}])["RouteTables"]
        ]
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        ssm.put_parameter(Name="/retried/parameter", Type="String", Value="as applied")
        route = {"route_table_id": "${aws_route_table.table.id}", "destination_cidr_block": "0.0.0.0/0", "gateway_id": gateway}
        parameter = {"name": "/retried/parameter", "type": "String", "value": "as applied"}
        resources = {"aws_route_table": {"table": table}, "aws_route": {"out": route}, "aws_ssm_parameter": {"p": parameter}}
        write_stack(stack_dir, emulator.endpoint, ("ec2", "ssm"), resources)
        result = local.plan_and_apply(stack_dir, env, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary.endswith("(imported 2 resource(s) created by a retried call)"), result.summary
        imported = {r["name"]: r["instances"][0]["attributes"] for r in stack_state(stack_dir)["resources"]}
        assert (imported["out"]["route_table_id"], imported["out"]["destination_cidr_block"]) == (table_id, "0.0.0.0/0")
        assert imported["p"]["id"] == "/retried/parameter"
        routes = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]["Routes"]
        assert [r["DestinationCidrBlock"] for r in routes].count("0.0.0.0/0") == 1


class LossyProxy:
    """A loopback HTTP proxy in front of the emulator that loses the answer to the first `times` requests whose
    body contains `marker`: it sends the answer's status and headers and half its body, then closes the connection,
    as a loaded emulator's answers were lost in CI ("use of closed network connection")."""

    def __init__(self, upstream: str, marker: bytes, times: int) -> None:
        import http.client
        import socketserver
        import threading
        from urllib.parse import urlsplit

        self.lost = 0
        host, port = urlsplit(upstream).hostname, urlsplit(upstream).port
        lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request_line = self.rfile.readline().decode()
                if not request_line:
                    return
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in iter(self.rfile.readline, b"\r\n"):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip()] = value.strip()
                body = self.rfile.read(int(headers.get("Content-Length", "0")))
                upstream_connection = http.client.HTTPConnection(host, port, timeout=60)
                upstream_connection.request(
                    method, path, body=body, headers={k: v for k, v in headers.items() if k.lower() != "connection"}
                )
                answer = upstream_connection.getresponse()
                content = answer.read()
                with lock:
                    lose = marker in body and proxy.lost < times
                    proxy.lost += lose
                head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
                head += [
                    f"{k}: {v}" for k, v in answer.getheaders() if k.lower() not in ("connection", "content-length", "transfer-encoding")
                ]
                head += [f"Content-Length: {len(content)}", "Connection: close"]
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode())
                self.wfile.write(content[: len(content) // 2] if lose else content)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
@pytest.mark.terraform
def test_an_apply_whose_answers_were_lost_on_the_way_is_applied_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer to a security group's describe is cut midway (the provider's client does not retry an answer cut
    short): the apply fails on a read, not on anything the stack asks. deploy-local plans and applies again, and
    the group exists once."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        ec2 = emulator.client("ec2", "eu-west-1")
        vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        proxy = LossyProxy(emulator.endpoint, b"Action=DescribeSecurityGroups", times=1)
        try:
            stack_dir = tmp_path / "out" / "stacks" / "group"
            group = {"name": "lossy-group", "description": "answers lost", "vpc_id": vpc}
            write_stack(stack_dir, proxy.endpoint, ("ec2",), {"aws_security_group": {"group": group}})
            result = local.plan_and_apply(stack_dir, {**terraform_env(), **emulator.environment()}, emulator)
        finally:
            proxy.close()
        assert proxy.lost == 1
        assert result.ok, result.output[-3000:]
        assert "answer(s) lost on the way (aws_security_group.group)" in result.summary, result.summary
        groups = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == "lossy-group"]
        assert len(groups) == 1
        assert stack_state(stack_dir)["resources"][0]["instances"][0]["attributes"]["id"] == groups[0]


def test_a_failed_apply_is_recovered_only_when_the_emulator_explains_every_error() -> None:
    """CI's failure: a read whose answer was lost and two record sets a retry found there. Each alone is recovered;
    with an error of any other kind beside them, nothing is touched and the failure stands."""
    lost = (
        "Error: reading EC2 Launch Template (lt-9a8caf85eaeed10ba) Version (2): operation error EC2: DescribeLaunchTemplateVersions, "
        "exceeded maximum number of attempts, 2, https response error StatusCode: 200, RequestID: Zw, decomposing response: "
        "read tcp 127.0.0.1:49516->127.0.0.1:33429: use of closed network connection\n\n  with aws_launch_template.template,\n"
    )
    refused = (
        "Error: creating IAM Role (r): operation error IAM: CreateRole, https response error StatusCode: 403, AccessDenied\n\n"
        "  with aws_iam_role.r,\n"
    )
    blocks = terraform_error_blocks(lost)
    assert [(address, any(marker in message for marker in local.LOST_ANSWER)) for message, address, _ in blocks] == [
        ("aws_launch_template.template", True)
    ]
    assert local.recover(None, Path("/nonexistent"), lost, {}) == "1 answer(s) lost on the way (aws_launch_template.template)"  # type: ignore[arg-type]
    assert local.recover(None, Path("/nonexistent"), lost + refused, {}) == ""  # type: ignore[arg-type]
    assert local.recover(None, Path("/nonexistent"), refused, {}) == ""  # type: ignore[arg-type]


def test_drift_is_known_only_when_the_emulator_explains_every_cause() -> None:
    def change(address: str, before: dict, after: dict, unknown: dict | None = None, actions: tuple = ("update",)) -> dict:
        body = {"actions": list(actions), "before": before, "after": after, "after_unknown": unknown or {}}
        return {"address": address, "type": address.split(".", maxsplit=1)[0], "mode": "managed", "change": body}

    described = change("aws_vpc_security_group_egress_rule.out", {"description": None}, {"description": "HTTPS out"})
    certificate = change(
        "aws_acm_certificate.c",
        {"key_algorithm": "RSA_2048", "early_renewal_duration": ""},
        {"key_algorithm": "EC_prime256v1", "early_renewal_duration": None},
        actions=("delete", "create"),
    )
    certificate["change"]["replace_paths"] = [["key_algorithm"]]  # what forces it; the rest is recreated with it
    follower = change("aws_lb_listener.l", {"certificate_arn": "arn:old", "port": 443}, {"port": 443}, {"certificate_arn": True})
    tagged = change("aws_s3_bucket.b", {"tags": {}}, {"tags": {"owner": "me"}})
    known = local.classify_drift("s", [described, certificate, follower])
    assert [(d.address, d.causes, d.known) for d in known] == [
        ("aws_vpc_security_group_egress_rule.out", ("description",), True),
        ("aws_acm_certificate.c", ("key_algorithm",), True),
        ("aws_lb_listener.l", (), True),
    ]
    mixed = local.classify_drift("s", [tagged, follower])
    assert [(d.address, d.known) for d in mixed] == [("aws_s3_bucket.b", False), ("aws_lb_listener.l", False)]
    assert [d.known for d in local.classify_drift("s", [follower])] == [False], "a change with no cause anywhere is not explained"
    assert local.known_drift("aws_cloudfront_distribution", "ordered_cache_behavior[1].forwarded_values[0].headers")
    assert not local.known_drift("aws_cloudfront_distribution", "ordered_cache_behavior[1].target_origin_id")


@pytest.mark.terraform
def test_a_state_lock_left_by_a_retried_lock_request_is_released_and_the_stack_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load a lock request can be retried after the emulator took it; the retry then finds the lock taken
    (ConditionalCheckFailedException) and the plan fails. deploy-local releases that lock and plans again."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        emulator.client("s3", "us-east-2").create_bucket(Bucket="state", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
        dynamodb = emulator.client("dynamodb", "us-east-2")
        dynamodb.create_table(
            TableName="locks",
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        info = {"ID": "5d0c8f4e-0000-4000-8000-000000000001", "Operation": "OperationTypePlan", "Who": "root@vm", "Version": "1.11.4",
                "Created": "2026-11-23T18:47:25Z", "Path": "state/app.tfstate", "Info": ""}  # fmt: skip
        dynamodb.put_item(TableName="locks", Item={"LockID": {"S": "state/app.tfstate"}, "Info": {"S": json.dumps(info)}})
        endpoints = {"s3": emulator.endpoint, "dynamodb": emulator.endpoint, "sts": emulator.endpoint, "iam": emulator.endpoint}
        stack = {
            "terraform": {
                "backend": {
                    "s3": {
                        "bucket": "state",
                        "key": "app.tfstate",
                        "region": "us-east-2",
                        "dynamodb_table": "locks",
                        "endpoints": endpoints,
                        "use_path_style": True,
                        "skip_credentials_validation": True,
                        "skip_metadata_api_check": True,
                    }
                }
            },
            "resource": {"terraform_data": {"release": {"input": "v1"}}},
        }
        stack_dir = tmp_path / "out" / "stacks" / "app"
        stack_dir.mkdir(parents=True)
        (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
        result = local.plan_and_apply(stack_dir, {**terraform_env(), **emulator.environment()}, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary == f"1 added, 0 changed, 0 destroyed (released state lock {info['ID']}, left by a retried lock request)"
        assert "Item" not in dynamodb.get_item(TableName="locks", Key={"LockID": {"S": "state/app.tfstate"}})


def test_destroy_disables_distributions_first_as_the_provider_would(fake_aws: None) -> None:
    """The provider's delete disables a distribution and then waits a fixed minute; disabled beforehand, it does not."""
    import boto3
    from moto import mock_aws

    origin = {
        "Id": "o",
        "DomainName": "o.example.com",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }
    behavior = {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only", "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
    with mock_aws():
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        config = {"CallerReference": "r", "Comment": "c", "Enabled": True, "Origins": {"Quantity": 1, "Items": [origin]}}
        created = cloudfront.create_distribution(DistributionConfig={**config, "DefaultCacheBehavior": behavior})["Distribution"]
        assert local.disable_distributions(cloudfront) == [created["Id"]]
        assert cloudfront.get_distribution_config(Id=created["Id"])["DistributionConfig"]["Enabled"] is False
        assert local.disable_distributions(cloudfront) == [], "a disabled one is left as it is"
