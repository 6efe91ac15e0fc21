"""Paper A (Pan, Aggarwal, Pixley 2026): phases of neuron dropout in MNIST networks.

Networks trained with dropout rate p_train are pruned at evaluation with rate p_eval; the power
law of the test cross-entropy in the training-set size N names the phase (eumentia, dementia,
amentia), and the eumentia-dementia transition is studied by finite-size scaling.

Modules: ``settings`` (typed config), ``experiment`` (shards: train, store, evaluate),
``evaluation`` (networks under random pruning masks, computing only the kept units), ``tables``
(per-run and summary tables), ``phases`` (alpha_CE and the phases), ``criticality`` (collapses,
chi2 maps, Binder cumulants), ``selection`` (what the notebooks pick from the tables), ``plots``.
"""
