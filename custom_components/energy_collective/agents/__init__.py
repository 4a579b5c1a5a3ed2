"""The agents of the collective: one coordinator per role, thin translators around the engine."""
