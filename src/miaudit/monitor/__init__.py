"""Catch membership-inference campaigns in the query log (``miaudit monitor``). So far: the
keyed-hash index of the training records (``miaudit monitor index``) and the training-set
overlap of each key's queries."""

from miaudit.monitor.index import FORMAT, TrainingIndex, canonical, load_secret
from miaudit.monitor.overlap import KeyOverlap, overlap_by_key

__all__ = ["FORMAT", "KeyOverlap", "TrainingIndex", "canonical", "load_secret", "overlap_by_key"]
