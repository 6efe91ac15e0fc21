"""Paper B (Huang and Goudarzi 2018): the random active path model of diluted binary deep networks.

Modules: ``instance`` (the factor graph of active paths), ``bp`` (belief propagation and the Bethe
thermodynamics), ``mc`` (Glauber Monte Carlo and annealing), ``exact`` (enumeration and the exact
block solution), ``experiments`` (the tables behind the figures), ``analysis`` (their summaries),
``activations`` (trained ReLU networks, Fig. 2), ``redundancy`` (the MNIST supplement), ``settings``
(the config's ``rap`` section as dataclasses), ``plots``.
"""
