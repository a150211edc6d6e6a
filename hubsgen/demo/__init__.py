"""Demo and synthetic data for populate.py, tests and benchmarks."""
