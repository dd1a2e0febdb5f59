from . import operations, views  # noqa: F401  (registers the routes)
