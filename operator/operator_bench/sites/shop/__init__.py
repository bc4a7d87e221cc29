"""The practice shop site."""
