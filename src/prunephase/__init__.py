"""prunephase: the statistical physics of neural-network pruning, reproduced end to end.

The package is a shared core and one subpackage per study:

- :mod:`prunephase.core`: configuration (schema, validation, typed settings), seeds, atomic
  file output, job logs, the notebook runner, figure saving, GPU placement;
- :mod:`prunephase.mnist`: the MNIST files (locate, verify, read, scale);
- :mod:`prunephase.nn`: batched ensembles of fully-connected networks, neuron dropout, the one
  trainer every study uses, and its plain ``torch.nn`` reference;
- :mod:`prunephase.scaling`: finite-size scaling (data collapses, chi2 maps, Binder cumulants);
- :mod:`prunephase.cost`: what the network jobs cost (FLOPs, memory, time), without torch;
- :mod:`prunephase.dropout_phases`: paper A, dropout phases of MNIST networks (Pan, Aggarwal,
  Pixley 2026);
- :mod:`prunephase.rap`: paper B, the random active path model (Huang, Goudarzi 2018);
- :mod:`prunephase.teacher_student`: paper C, teacher-student theory of pruning (Acharyya et
  al. 2021).

A study imports the core, ``mnist``, ``nn`` and ``scaling``, never another study. A new study is
a new subpackage beside these three, with its rules in ``rules/<study>.smk`` and its notebooks in
``notebooks/<study>/``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prunephase")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0+unknown"
