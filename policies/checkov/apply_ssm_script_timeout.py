"""CKV_APPLY_1: no `aws:executeScript` step of an Automation document may run longer than SSM allows (600 s).

SSM stops such a step at 600 seconds whatever `timeoutSeconds` says
(https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html), so a longer
wait inside one script never finishes. Steps inside `aws:loop` are checked too.
"""

from hadr_common import HadrCheck, json_attr, result

MAX_SCRIPT_SECONDS = 600


def steps(found):
    for step in found or []:
        if isinstance(step, dict):
            yield step
            if step.get("action") == "aws:loop":
                yield from steps(step.get("inputs", {}).get("Steps"))


class SsmScriptTimeout(HadrCheck):
    check_id = "CKV_APPLY_1"
    description = "Ensure no SSM Automation aws:executeScript step has a timeout over 600 seconds"
    resource_types = ("aws_ssm_document",)

    def scan_resource_conf(self, conf):
        document = json_attr(conf, "content") or {}  # YAML or not JSON: not ours to read
        too_long = [
            step for step in steps(document.get("mainSteps") if isinstance(document, dict) else [])
            if step.get("action") == "aws:executeScript" and int(step.get("timeoutSeconds", 0) or 0) > MAX_SCRIPT_SECONDS
        ]  # fmt: skip
        return result(not too_long)


check = SsmScriptTimeout()
