"""Tests of the forecasting engine (no Home Assistant)."""
