"""Infrastructure every stage uses: the one subprocess layer with its supervisor and bounded
capture, the on-disk layout with its atomic writes, and the cache areas with their locks.
Nothing here knows PyO3, reproducers or outcomes.
"""
