"""Past states rebuilt from the event store alone: time travel and the `spanledger replay` CLI.

`positions` finds where a log position or a moment falls in the log and in an aggregate's
own history; `history` rebuilds aggregates there through their own event handlers (from a
snapshot where one helps); `changes` tells states apart. None of it reads the read model.
"""
