"""The bottom layer: media I/O, device and seeds, recipes and registry, weights, gallery,
progress and errors. Nothing here imports from a mapping or from the CLI."""
