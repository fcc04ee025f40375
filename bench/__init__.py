"""Benchmarks: each writes its results to bench/results/ and states machine, protocol and command."""
