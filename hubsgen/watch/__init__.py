"""``hubsgen watch``: take messages from the bus and rewrite only the files they change."""
