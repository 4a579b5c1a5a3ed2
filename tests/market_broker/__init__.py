"""Market sessions trading through a real Mosquitto broker on loopback."""
