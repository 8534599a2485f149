"""The garbage collector pause around bulk imports: overlapping imports keep it paused until
the last one ends, and a collector someone else disabled stays disabled."""

import gc

import pytest

from spanledger.api.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_back_on():
    yield
    gc.enable()


def test_overlapping_imports_keep_the_collector_paused_until_the_last_one_ends():
    gc.enable()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second import still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_the_collector_is_back_after_an_import_that_failed():
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a refused file")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
