"""Where everything lives on disk and what is kept: the layout, the JSON records, the cache's size
limit, merging shards.
"""
