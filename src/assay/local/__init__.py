"""Running suite files from the command line: parsing (`suitefile`), local and remote runs, reports."""
