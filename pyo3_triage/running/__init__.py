"""Running children and telling what happened: the one subprocess layer and its supervisor, bounded
output capture, the reproducer's runs and their classification.
"""
