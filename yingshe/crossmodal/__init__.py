"""Cross-modal mappings: one medium read as another (a poem painted, a painting played, music seen)."""
