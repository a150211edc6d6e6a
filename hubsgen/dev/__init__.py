"""``hubsgen serve`` and ``hubsgen widget new``: the widget author's loop."""
