"""The practice flights site."""
