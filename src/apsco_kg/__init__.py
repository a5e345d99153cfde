"""apsco-kg: the knowledge graph of the Asia-Pacific Space Cooperation Organization."""

__version__ = "0.1.0"
