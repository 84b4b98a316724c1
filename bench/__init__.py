"""Benchmarks: run by hand, results committed under bench/results/."""
