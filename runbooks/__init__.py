"""Code that runs inside AWS as SSM Automation `aws:executeScript` steps (runtime python3.11), apart from the
constructs that build the documents: nothing here imports cdktf or the provider bindings.

Each handler is a plain function of (events, context) returning its outputs, so it can be imported and tested with
boto3 against moto like the Lambda handlers. Its source, with the helpers its module's HELPERS names for it, is
embedded verbatim in the document (modules/automation_steps.py), which is why handlers import inside the function
body: SSM runs each script on its own.
"""
