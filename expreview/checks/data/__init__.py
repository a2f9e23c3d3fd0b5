"""DATA: the data pipeline between a dataset and the model: rows that a DataLoader's collator can
batch (collate), and datasets loaded the way the datasets library accepts them (dataset_configs)."""
