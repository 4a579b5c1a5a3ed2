"""Tests of Energy Collective."""
