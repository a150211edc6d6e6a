"""``hubsgen hub|widget|member|rejected``: the operator's commands, and carrying their changes
to build/."""
