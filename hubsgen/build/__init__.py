"""``hubsgen build``: render every hub into the output directory, skipping a build that
would change nothing."""
