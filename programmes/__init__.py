"""Programme templates (see README.md); data files, read by core.domain.programmes."""
