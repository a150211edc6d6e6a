"""Fedora Hubs domain: hubs, their widgets, and how they render."""
