"""Command-line helpers around the synthesized stacks (Terraform runs, reports)."""
