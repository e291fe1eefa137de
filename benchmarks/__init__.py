"""
Benchmarks: the classic socket client thread against the Twisted client, and more.

``python -m benchmarks`` (``twisted-client-bench``) runs them and prints the
table; ``python -m benchmarks.parsing`` compares receiving one large message
with our parser and with Twisted's stock one. See ``benchmarks/__main__.py``
for the options and ``benchmarks/clients`` for what each client kind does.
"""
