"""CKV_APPLY_1: no `aws:executeScript` step of an Automation document may run longer than SSM allows (600 s).

SSM stops such a step at 600 seconds whatever `timeoutSeconds` says
(https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html), so a longer
wait inside one script never finishes. Steps inside `aws:loop` are checked too. The document is read as its
`document_format` says (JSON, the default, or YAML); `timeoutSeconds` may be a number, a number in a string, or a
`{{ Parameter }}` whose default is read. A document or a timeout that cannot be read (an expression known only at
apply, a parameter without a number for a default) fails: the check cannot say the step is within the cap.
"""

import json
import re

import yaml
from hadr_common import HadrCheck, as_int, attr, result

MAX_SCRIPT_SECONDS = 600
PARAMETER = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")


def document_of(conf):
    """The document's content parsed by its format, or None when it cannot be read here."""
    content = attr(conf, "content")  # references inside its values (a role's ARN) still leave it readable
    if not isinstance(content, str):
        return None
    try:
        document = yaml.safe_load(content) if str(attr(conf, "document_format") or "JSON").upper() == "YAML" else json.loads(content)
    except (ValueError, yaml.YAMLError):
        return None
    return document if isinstance(document, dict) else None


def steps(found):
    for step in found if isinstance(found, list) else []:
        if isinstance(step, dict):
            yield step
            if step.get("action") == "aws:loop":
                yield from steps((step.get("inputs") or {}).get("Steps"))


def seconds(value, parameters):
    """A timeoutSeconds as a number of seconds: 0 when unset (SSM's cap applies), None when it cannot be read."""
    if value is None:
        return 0
    if isinstance(value, str):
        reference = PARAMETER.match(value.strip())
        if reference:
            default = (parameters.get(reference.group(1)) or {}).get("default") if isinstance(parameters, dict) else None
            return None if default is None else seconds(default, {})
        value = value.strip()
    return as_int(value)


class SsmScriptTimeout(HadrCheck):
    check_id = "CKV_APPLY_1"
    description = "Ensure no SSM Automation aws:executeScript step has a timeout over 600 seconds"
    resource_types = ("aws_ssm_document",)

    def scan_resource_conf(self, conf):
        if str(attr(conf, "document_type") or "").lower() not in ("automation", ""):
            return result(True)  # a Command or Session document has no executeScript steps
        document = document_of(conf)
        if document is None:
            return result(False)
        parameters = document.get("parameters") or {}
        scripts = [step for step in steps(document.get("mainSteps")) if step.get("action") == "aws:executeScript"]
        timeouts = [seconds(step.get("timeoutSeconds"), parameters) for step in scripts]
        return result(all(timeout is not None and 0 <= timeout <= MAX_SCRIPT_SECONDS for timeout in timeouts))


check = SsmScriptTimeout()
