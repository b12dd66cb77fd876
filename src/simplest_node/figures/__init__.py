"""Each chapter's figures, one module per chapter, and the axes helpers they share (``axes``)."""
