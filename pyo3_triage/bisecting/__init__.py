"""Finding where an outcome changes: the pure search, searches over releases and CPythons, the
commit level down to the pull request, its report, and the library's regression check.
"""
