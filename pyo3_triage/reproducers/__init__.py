"""What gets built: a reproducer (a scenario folder, or a user's own crate moved to each release)
and the crate the template renders from it.
"""
