"""Routes are added by the feature that owns this module."""
