"""Running a reproducer and telling what happened: the import check and the driver's runs
(`runner`), and their classification into outcomes and evidence (`classify`).
"""
