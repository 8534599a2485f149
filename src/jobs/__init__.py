"""Workers that follow the log and do the work its events ask for (training jobs)."""
