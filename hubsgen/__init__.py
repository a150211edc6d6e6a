"""hubsgen: pre-render Fedora Hubs to static files and keep them fresh."""
