"""The worker process: the jobs it runs, their schedules and what each job is given."""
