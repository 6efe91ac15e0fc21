def dropout_phases_targets():
    return [RESULTS / "data" / "mnist.npz"]
