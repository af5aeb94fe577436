"""Composition: MusicSpec -> Score (form, harmony, melody, parts, humanisation)."""
