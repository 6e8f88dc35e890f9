"""The "Adding your own service" worked example, tested (see docs/extending.rst)."""
