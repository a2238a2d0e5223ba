"""Deterministic names shared by the stacks and the tools; imports no provider bindings, so tools stay fast."""

from __future__ import annotations

from modules.config import ActiveActive, DeploymentConfig

ACTIVE_ACTIVE = "active-active"
WARM_STANDBY = "warm-standby"
DATA_STACK = f"{ACTIVE_ACTIVE}-data"


def regional_stack_name(architecture: str, region: str) -> str:
    return f"{architecture}-{region}"


def global_stack_name(architecture: str) -> str:
    return f"{architecture}-global"


def regional_host(region: str, domain_name: str) -> str:
    """The per-region host name health checks probe, e.g. eu-west-1.api.example.com."""
    return f"{region}.{domain_name}"


def origin_host(region: str, domain_name: str) -> str:
    """The warm standby's web ALB name in `region`: CloudFront's origin and the health checks' target."""
    return f"origin-{region}.{domain_name}"


def writer_host(domain_name: str) -> str:
    """The warm standby's write origin: a Route 53 failover record that follows the writer latch."""
    return f"origin-writer.{domain_name}"


def app_host(region: str, domain_name: str) -> str:
    """The warm standby's internal ALB name in `region`."""
    return f"app-{region}.{domain_name}"


def vault_name(config: DeploymentConfig, architecture: str, region: str) -> str:
    return f"{config.name_prefix}-{architecture}-{region}"


def failover_function_name(config: DeploymentConfig, region: str) -> str:
    """The warm standby's failover function in the standby `region` (the stack, the drill tools)."""
    return f"{config.name_prefix}-{WARM_STANDBY}-{region}-failover"


def table_name(config: DeploymentConfig) -> str:
    return f"{config.name_prefix}-items"


def table_key_alias(config: DeploymentConfig) -> str:
    """The alias of the table's key; the same name in each region, so IAM can match it in either."""
    return f"{config.name_prefix}-{ACTIVE_ACTIVE}-table"


def active_active_stacks(arch: ActiveActive) -> list[str]:
    """The active/active stacks in deploy order."""
    return [DATA_STACK, *(regional_stack_name(ACTIVE_ACTIVE, r.region) for r in arch.regions), global_stack_name(ACTIVE_ACTIVE)]


def database_identifier(config: DeploymentConfig, *, replica: bool) -> str:
    """The warm standby's RDS instance: the primary, or its cross-region replica in the standby region."""
    return f"{config.name_prefix}-{WARM_STANDBY}-db" + ("-replica" if replica else "")


def database_resource(config: DeploymentConfig, *, replica: bool) -> str:
    """The database's RDS ARN resource: the instance (`db:<id>`), or with Aurora the regional cluster (`cluster:<id>`,
    the same identifiers: the standby's secondary cluster is `...-db-replica`)."""
    kind = "cluster" if config.warm_standby is not None and config.warm_standby.database.aurora else "db"
    return f"{kind}:{database_identifier(config, replica=replica)}"


def global_cluster_identifier(config: DeploymentConfig) -> str:
    """The Aurora global database that both regional clusters join."""
    return f"{config.name_prefix}-{WARM_STANDBY}-global-db"


def database_parameter(config: DeploymentConfig) -> str:
    """SSM parameter the app tier reads to find its writer (host, port, secret, writable)."""
    return f"/{config.name_prefix}/{WARM_STANDBY}/database"


def assets_bucket(config: DeploymentConfig, region: str) -> str:
    return f"{config.name_prefix}-ws-assets-{region}-{config.account_id}"


def access_point_name(config: DeploymentConfig) -> str:
    """The warm standby's S3 Multi-Region Access Point; its buckets' keys share this alias."""
    return f"{config.name_prefix}-ws-assets"


def master_secret_name(config: DeploymentConfig) -> str:
    """The warm standby database's master credentials, the same name in both regions (the standby holds a replica)."""
    return f"{config.name_prefix}/{WARM_STANDBY}/db-master"


def credentials_key_alias(config: DeploymentConfig) -> str:
    """The key of the master secret and of its replica: the same alias in both regions."""
    return f"{config.name_prefix}-ws-db-credentials"


def switch_document_name(config: DeploymentConfig) -> str:
    """The warm standby's recovery plan: the region-switch Automation document (in the standby region)."""
    return f"{config.name_prefix}-ws-region-switch"


def rebuild_document_name(config: DeploymentConfig) -> str:
    """The failback's rebuild-replica Automation document (in the standby region)."""
    return f"{config.name_prefix}-ws-rebuild-replica"


def database_monitoring_role(config: DeploymentConfig, region: str) -> str:
    """The warm standby database's enhanced-monitoring role in `region` (the rebuild passes it to RDS)."""
    return f"{config.name_prefix}-{WARM_STANDBY}-{region}-rds-monitoring"


def plan_role_name(config: DeploymentConfig) -> str:
    """The role the recovery plan's documents run as."""
    return f"{config.name_prefix}-{WARM_STANDBY}-recovery-plan"


def permissions_document_name(config: DeploymentConfig) -> str:
    """The readiness permission evaluation of the recovery plan's role (in the standby region)."""
    return f"{config.name_prefix}-ws-plan-permissions"


def group_names(config: DeploymentConfig, region: str) -> dict[str, str]:
    """The web and app Auto Scaling groups of `region` (LoadBalancedTier names them)."""
    return {tier: f"{config.name_prefix}-ws-{region}-{tier}" for tier in ("web", "app")}


def latch_alarm_name(config: DeploymentConfig) -> str:
    return f"{config.name_prefix}-{WARM_STANDBY}-writes-moved"


def probe_alarm_name(config: DeploymentConfig) -> str:
    return f"{config.name_prefix}-{WARM_STANDBY}-primary-probe"


def readiness_alarm_name(config: DeploymentConfig) -> str:
    """The alarm of the recovery plan's readiness evaluation: the standby cannot take over (or none reported)."""
    return f"{config.name_prefix}-{WARM_STANDBY}-standby-not-ready"


def dashboard_name(config: DeploymentConfig, architecture: str) -> str:
    return f"{config.name_prefix}-{architecture}"


def _short(architecture: str) -> str:
    return "ws" if architecture == WARM_STANDBY else "aa"


def canary_name(config: DeploymentConfig, architecture: str, region: str) -> str:
    """Lowercase letters, digits and '-' only, as CreateCanary requires (the project name and environment are)."""
    return f"{config.name_prefix}-{_short(architecture)}-{region}"


def canary_bucket_name(config: DeploymentConfig, architecture: str, region: str) -> str:
    """The bucket of the canary's artifacts in `region`."""
    return f"{config.name_prefix}-{_short(architecture)}-canary-{region}-{config.account_id}"


def account_trail_name(config: DeploymentConfig) -> str:
    return f"{config.name_prefix}-account-trail"


def access_point_parameter(config: DeploymentConfig) -> str:
    """SSM parameter (in each warm-standby region) holding the assets Multi-Region Access Point's ARN, whose alias
    AWS generates: the recovery plan reads it there, not from the access point's control plane."""
    return f"/{config.name_prefix}/{WARM_STANDBY}/assets-access-point"


def writer_parameter_name(config: DeploymentConfig) -> str:
    return f"/{config.name_prefix}/{WARM_STANDBY}/writer-region"


def health_parameter_name(config: DeploymentConfig) -> str:
    return f"/{config.name_prefix}/{WARM_STANDBY}/primary-health-issue"
