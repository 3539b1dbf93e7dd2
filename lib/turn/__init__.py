"""One conversation turn: `stream.Turn(...).events()` runs it (start there).

request.py builds what is sent from plain values; events.py is what a turn yields; stop.py stops it from any
thread; refusal.py says when the API refused the run's container; download.py fetches a generated file.
"""
