"""What is kept: the JSON records, the cache's size limit (eviction), merging shards."""
