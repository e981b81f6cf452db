"""`python -m worker`: run one worker against TEMPORAL_ADDRESS."""

from worker.main import main

main()
