"""Fixtures for the escalation tests; the scripted caller lives in escalation_caller.py."""
import pytest

from escalation_caller import Caller


@pytest.fixture
def call() -> Caller:
    return Caller()
