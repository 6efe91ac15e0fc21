"""Fully-connected networks as batched ensembles, and how they train.

Modules: ``ensemble`` (M networks with stacked parameters: a leading model dimension, batched
products; their initialisation as ``torch.nn`` would), ``streams`` (counter-based random numbers:
every model's draws of a step in one batched computation), ``dropout`` (per-model neuron-dropout
masks), ``training`` (the one trainer: Adam or SGD, cross-entropy or absolute loss, per-model
seeds, snapshots), ``reference`` (the same networks in plain ``torch.nn``, one at a time: the
reference the ensemble is tested against and the naive baseline of the benchmark), ``dispatch``
(counting the operations torch dispatches: the launches per step the batched code keeps constant).
"""
