"""Helpers shared by tests, benchmarks and scripts; none of them is a test or a fixture."""
