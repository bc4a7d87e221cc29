"""operator-agent: an agent that uses a browser and a desktop the way a person does."""

__version__ = "0.1.0"
