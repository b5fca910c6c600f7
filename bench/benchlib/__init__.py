"""The benchmark harness behind `bench/run.py`: processes, load generation, sampling, reports."""
