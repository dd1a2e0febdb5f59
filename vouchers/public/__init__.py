from . import operations, privacy, views  # noqa: F401  (registers the routes)
