"""A party's data sources (CSV, Parquet, SQL) and their validation into a PartyDataset."""

from parties.data.loader import load_dataset

__all__ = ["load_dataset"]
