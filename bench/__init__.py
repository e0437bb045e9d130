"""qunbot's benchmark suite: ``python -m bench [--quick] [--only NAME] [--seed N]``.

Each workload module (``bench/<name>.py``) has a ``run(ctx)`` that measures a real code path
beside a baseline measured in the same run and returns result rows (``bench.core.Result``).
"""
