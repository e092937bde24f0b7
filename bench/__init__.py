"""Benchmarks for relay (`make bench`): every figure is a ratio to a baseline of the same run.

One module per benchmark, each runnable as ``python -m bench.<name>`` (``--quick`` for a smoke
run): ``ingest``, ``dispatch``, ``concurrency``, ``latency``, ``backlog``; ``run_all`` runs them
in turn. Results go to ``bench/results/<name>.json``. Not part of ``make test``.
"""
