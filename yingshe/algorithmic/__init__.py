"""Algorithmic art: seed + parameters → image (and SVG). Each generator is a mapping."""
