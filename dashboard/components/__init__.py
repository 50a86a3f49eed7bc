"""Reusable builders (``create_*``-style functions) shared by the pages."""
