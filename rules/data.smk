localrules:
    mnist,


rule mnist:
    output:
        RESULTS / "data" / "mnist.npz",
    log:
        LOGS / "data" / "mnist.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        dirs=config["data"]["mnist_dirs"],
        download=config["data"]["download"],
        mirrors=config["data"]["mirrors"],
    script:
        "../workflow/scripts/fetch_mnist.py"
