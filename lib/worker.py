"""`python -m lib.worker`: a run worker for a team deployment (the code lives in lib.runs.worker)."""

from lib.runs.worker import main

if __name__ == "__main__":
    main()
