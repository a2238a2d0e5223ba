"""A monthly AWS Budgets cost budget for the deployment, with alerts to an SNS topic (seed 003: "Budget alerts at
50%, 80%, and 100%").

AWS rules encoded here:
- At most 5 notifications per budget and one SNS subscriber per notification (with up to 10 e-mail ones); a budget
  name is at most 100 characters without `:` or `\\`
  (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-limits.html, BudgetSettings refuses more).
- The topic's policy must let budgets.amazonaws.com publish, and its key must let the service use it
  (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html): the topic here is an
  AlarmTopic with "budgets.amazonaws.com" among its publishers and its key's service principals.
- The cost filter is the Deployment tag, which the account must activate as a cost allocation tag before costs
  carry it (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetCostFilter, BudgetsBudgetNotification
from constructs import Construct

from modules.config import BudgetSettings
from modules.errors import InputError

BUDGETS = "budgets.amazonaws.com"
#: The tag every resource carries (modules.base.common_tags) and the budget filters on.
DEPLOYMENT_TAG = "Deployment"


class CostBudget(Construct):
    """A monthly cost budget of `settings.monthly_limit_usd` for resources tagged Deployment=`deployment`, with a
    notification to `topic_arn` when the month's actual cost passes each of `settings.alert_percentages`."""

    def __init__(self, scope: Construct, id: str, *, name: str, deployment: str, settings: BudgetSettings, topic_arn: str) -> None:
        super().__init__(scope, id)
        if len(name) > 100 or set(name) & {":", "\\"}:
            raise InputError.single(f"{self.node.path}.name", name, "expected at most 100 characters without ':' or '\\'")
        self.budget = BudgetsBudget(
            self,
            "budget",
            name=name,
            budget_type="COST",
            limit_amount=str(settings.monthly_limit_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filter=[BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"user:{DEPLOYMENT_TAG}${deployment}"])],
            notification=[
                BudgetsBudgetNotification(
                    comparison_operator="GREATER_THAN",
                    threshold=percentage,
                    threshold_type="PERCENTAGE",
                    notification_type="ACTUAL",
                    subscriber_sns_topic_arns=[topic_arn],
                )
                for percentage in settings.alert_percentages
            ],
            tags={"Name": name},
        )
