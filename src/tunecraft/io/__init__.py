"""Files <-> scores and audio. Nothing else in tunecraft touches files."""
