"""Self-attention mappings: a decoder-only Transformer (yingshe.nets.transformer) that writes
poems (``poem``) and melodies (``melody``), with the tokenizers, corpora and trainers they need."""
