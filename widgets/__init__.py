"""The built-in widget plugins, registered like third-party ones in setup.cfg."""
