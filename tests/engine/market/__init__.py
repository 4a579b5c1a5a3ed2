"""Tests of the peer-to-peer market engine (no Home Assistant)."""
