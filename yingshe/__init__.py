"""yingshe (映射): everything is a mapping — a toolkit for making art with AI.

Each technique maps one medium to another and records its recipe inside the artwork,
so anyone can recreate it exactly. See DESIGN.md for the layers.
"""

__version__ = "0.1.0"
