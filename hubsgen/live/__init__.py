"""``hubsgen events``: tell open hub pages which widgets changed, as server-sent events."""
