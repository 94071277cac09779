"""Plain-text rendering of incidents, clocks and timelines, per language and time zone."""
