"""
Helpers for the compat tests: scripted peers, and programs run in subprocesses.

The programs (``python -m tests.compat_programs.NAME``) are whole processes,
because what they check is how a process behaves: which reactor it ends up
with, how many threads it runs, and whether it exits by itself.
"""
