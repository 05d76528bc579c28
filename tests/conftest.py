import os

from hypothesis import HealthCheck, settings

# CI runs derandomized: the same examples every run, so a failure is reproducible and never flaky.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_sweep(tmp_path_factory):
    """(folder, entries) of the 5x protocol's smallest sweep (toymodels.enlarge.TINY), run once per session:
    the producer's own output, shared by the toy-model and figure tests."""
    from toymodels.enlarge import TINY, run_sweep

    out = tmp_path_factory.mktemp("tiny-sweep")
    return out, run_sweep(TINY, out, log=lambda s: None)
