"""Measuring the line on labelled corpora: a shell beside ``ivr.simulate``.

``corpus`` reads labelled calls, ``driver`` plays them through the real engine on a
flow, ``evaluate`` computes precision, recall and timing (``ivr eval escalation``).
"""
