"""Scheduled jobs with APScheduler 3: triggers, persistent stores, missed runs, DST, one leader."""
