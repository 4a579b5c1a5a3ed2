"""The engine of Energy Collective: pure Python, no Home Assistant import below this package."""
