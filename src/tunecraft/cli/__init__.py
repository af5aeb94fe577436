"""The command line: a thin layer over :mod:`tunecraft.api`."""
