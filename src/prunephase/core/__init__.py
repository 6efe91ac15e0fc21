"""The shared core of every study: nothing here knows about a paper.

Modules: ``config`` (the JSON Schema with every default, validation with messages that name the
keys, relations between keys, typed settings), ``seeds`` (the one rule that derives every random
stream from the root seed), ``io`` (atomic output, parquet with provenance), ``logs`` (job logs),
``notebooks`` (papermill execution and HTML rendering), ``figures`` (saving figures), ``devices``
(GPU placement for concurrent jobs, CPU allocator settings). None of them imports torch.
"""
