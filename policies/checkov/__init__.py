"""The project's own checkov checks (CKV_HADR_<n>): what a multi-region design needs to fail over.

Loaded with `checkov --external-checks-dir policies/checkov`; each file holds one check and `hadr_common` the
helpers that read checkov's parsed Terraform (every attribute value arrives wrapped in a one-item list).
"""
