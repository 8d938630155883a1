"""Powertools Logger and Metrics shared by the functions (JSON logs, correlation ids, one metric per outcome)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
