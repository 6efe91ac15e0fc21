"""Paper C (Acharyya et al. 2021): pruning in the soft-committee teacher-student model, and MNIST.

Modules: ``gaussian_averages`` (the erf integrals), ``order_parameters``, ``ode`` (the
order-parameter ODEs of online learning), ``simulation`` (online SGD), ``dpp`` (exact k-DPP
sampling), ``pruning`` (the pruning methods and reweightings), ``theory`` (generalisation error of
pruned students in closed form), ``experiments`` (the tables of the workflow), ``mnist_pruning``
(the same methods on a trained MNIST network), ``claims`` (the paper's claims tested on the
tables), ``settings`` (typed config), ``plots``.
"""
