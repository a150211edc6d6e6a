"""The output directory, shared by build, watch and serve: atomic writes, hub files, static
assets, and what killed writers left behind."""
