"""The deployable stacks: compositions of `modules/` for each architecture."""
