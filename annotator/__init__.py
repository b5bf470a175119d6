"""annotator: source-reliability and propaganda-framing annotation for news articles."""
__version__ = "0.1.0"
