"""MySQL/MariaDB adapters of the full profile: the flashbulb incident store (Mfb)."""
