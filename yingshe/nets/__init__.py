"""Network building blocks shared by mappings."""
