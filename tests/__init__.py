"""bordersim's tests (a package, so that ``tests`` here is never another distribution's ``tests``)."""
