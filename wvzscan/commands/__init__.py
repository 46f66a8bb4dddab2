"""Commands beyond `dir` and `baseline`, one module per feature, loaded lazily by ``cli.LazyGroup``."""
